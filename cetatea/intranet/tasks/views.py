"""The intranet's tasks: views (thin; logic in services.py and selectors.py)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import storages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cetatea.core.security import file_response
from cetatea.intranet.selectors import access_intranet
from cetatea.intranet.tasks import selectors, services
from cetatea.intranet.tasks.forms import (
    AttachmentForm,
    BoardChoiceForm,
    BoardEditForm,
    BoardForm,
    ChecklistAddForm,
    ChecklistSetForm,
    CommentForm,
    MemberAddForm,
    MoveForm,
    TaskCreateForm,
    TaskEditForm,
    TaskFilterForm,
)
from cetatea.intranet.tasks.models import ChecklistItem


def _add_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError put back on the form's fields (else on the form)."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for key, errors in exc.message_dict.items():
        for message in errors:
            form.add_error(key if key in form.fields else None, message)


def _is_stale(exc: ValidationError) -> bool:
    return getattr(exc, "code", None) == "stale"


# --- boards ----------------------------------------------------------------------------


@require_GET
def index(request):
    access_intranet(request.user)
    page = Paginator(selectors.boards_of(request.user), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "tasks/index.html",
        {"section": "tasks", "page": page, "panel": selectors.home_panel(request.user, limit=20)},
    )


def board_create(request):
    access_intranet(request.user)
    form = BoardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            board = services.board_create(
                actor=request.user,
                name=data["name"],
                description=data["description"],
                department_id=data["department"].pk if data["department"] else None,
                team_id=data["team"].pk if data["team"] else None,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The board was created."))
            return redirect("tasks:board", board_id=board.pk)
    status = 400 if form.errors else 200
    return render(
        request, "tasks/board_form.html", {"section": "tasks", "form": form}, status=status
    )


def _board_context(request, board, **extra):
    return {
        "section": "tasks",
        "board": board,
        "may_manage": selectors.may_manage_board(request.user, board),
        **extra,
    }


@require_GET
def board(request, board_id: int):
    board = selectors.access_board(request.user, board_id)
    context = _board_context(request, board, columns=selectors.kanban(board))
    return render(request, "tasks/board.html", context)


@require_GET
def board_list(request, board_id: int):
    board = selectors.access_board(request.user, board_id)
    members = list(selectors.board_members(board))
    form = TaskFilterForm(request.GET or None, members=members)
    filters = selectors.ListFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["assignee"] == "me":
            filters.assignee_id = request.user.pk
        elif data["assignee"] == "none":
            filters.unassigned = True
        elif data["assignee"]:
            filters.assignee_id = int(data["assignee"])
        filters.statuses = data["status"]
        filters.priorities = data["priority"]
        filters.due_before = form.due_before_at()
        filters.sort = data["sort"] or filters.sort
    page = selectors.task_list(board=board, filters=filters, cursor=request.GET.get("cursor", ""))
    next_url = ""
    if page.next_cursor:
        query = request.GET.copy()
        query["cursor"] = page.next_cursor
        next_url = f"{request.path}?{query.urlencode()}"
    context = _board_context(request, board, form=form, page=page, next_url=next_url)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "tasks/board_list.html", context, status=status)


def board_settings(request, board_id: int):
    board = selectors.access_board(request.user, board_id)
    if not selectors.may_manage_board(request.user, board):
        raise PermissionDenied
    edit = BoardEditForm(
        request.POST if request.POST.get("action") == "edit" else None,
        initial={"name": board.name, "description": board.description},
    )
    add = MemberAddForm(request.POST if request.POST.get("action") == "add" else None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "edit" and edit.is_valid():
                services.board_update(
                    actor=request.user,
                    board_id=board.pk,
                    name=edit.cleaned_data["name"],
                    description=edit.cleaned_data["description"],
                )
                messages.success(request, _("The board was saved."))
                return redirect("tasks:board_settings", board_id=board.pk)
            if action == "add" and add.is_valid():
                user = services.board_member_add(
                    actor=request.user, board_id=board.pk, username=add.cleaned_data["username"]
                )
                messages.success(
                    request, _("%(name)s is now a member.") % {"name": user.get_username()}
                )
                return redirect("tasks:board_settings", board_id=board.pk)
            if action in ("archive", "unarchive"):
                services.board_archive(
                    actor=request.user, board_id=board.pk, archived=action == "archive"
                )
                if action == "archive":
                    messages.success(request, _("The board was archived."))
                else:
                    messages.success(request, _("The board is back in the lists."))
                return redirect("tasks:board_settings", board_id=board.pk)
            if action == "remove":
                try:
                    user_id = int(request.POST.get("user", ""))
                except ValueError:
                    raise Http404 from None
                services.board_member_remove(actor=request.user, board_id=board.pk, user_id=user_id)
                messages.success(request, _("The member was removed."))
                return redirect("tasks:board_settings", board_id=board.pk)
        except ValidationError as exc:
            _add_errors(add if action == "add" else edit, exc)
    context = _board_context(
        request,
        board,
        edit_form=edit,
        add_form=add,
        explicit=list(board.members.order_by("username")[: selectors.MEMBER_LIMIT]),
    )
    status = 400 if edit.errors or add.errors else 200
    return render(request, "tasks/board_settings.html", context, status=status)


# --- tasks -----------------------------------------------------------------------------


def _create(request, board, form, case):
    data = form.cleaned_data
    return services.task_create(
        actor=request.user,
        board=board,
        title=data["title"],
        description=data["description"],
        assignee=data["assignee"],
        due_at=data["due_at"],
        priority=data["priority"],
        case_id=case.pk if case else None,
        idempotency_key=data["idempotency_key"],
    )


def _case_of(request):
    """The case a task is made from (``?case=``), if the user may open it in the console."""
    raw = request.POST.get("case") or request.GET.get("case") or ""
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404
    from cetatea.console.selectors import access_case

    return access_case(request.user, int(raw))


def task_create(request, board_id: int):
    board = selectors.access_board(request.user, board_id)
    case = _case_of(request)
    initial = {}
    if case is not None:
        initial = {
            "title": f"{case.reference} · {case.title}"[:200],
            "due_at": case.due_at,
            "case": case.pk,
            "priority": case.priority,
        }
    members = selectors.board_members(board)
    form = TaskCreateForm(request.POST or None, initial=initial, members=members)
    if request.method == "POST" and form.is_valid():
        try:
            task = _create(request, board, form, case)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The task was created."))
            return redirect("tasks:task", task_id=task.pk)
    status = 400 if form.errors else 200
    context = _board_context(request, board, form=form, case=case)
    return render(request, "tasks/task_form.html", context, status=status)


@require_GET
def task_create_from_case(request):
    """Choose the board of a task made from a case (only someone who may open the case
    in the console), then fill in the task on that board."""
    access_intranet(request.user)
    case = _case_of(request)
    if case is None:
        raise Http404
    boards = selectors.boards_of(request.user)
    choice = BoardChoiceForm(request.GET if "board" in request.GET else None, boards=boards)
    target = None
    if choice.is_bound and choice.is_valid():
        target = choice.cleaned_data["board"]
    elif not choice.is_bound:
        first_two = list(boards[:2])
        target = first_two[0] if len(first_two) == 1 else None
    if target is not None:
        url = reverse("tasks:task_create", args=[target.pk])
        return redirect(url + "?" + urlencode({"case": case.pk}))
    status = 400 if choice.errors else 200
    context = {"section": "tasks", "choice": choice, "case": case}
    return render(request, "tasks/choose_board.html", context, status=status)


def _task_context(request, task, **extra):
    members = selectors.board_members(task.board)
    context = {
        "section": "tasks",
        "task": task,
        "board": task.board,
        "case": selectors.task_case(task),
        "may_open_case": request.user.has_perm("cases.view_case"),
        "checklist": list(task.checklist.all()[:200]),
        "comments": selectors.task_comments(task),
        "attachments": list(task.attachments.all()[:50]),
        "edit_form": TaskEditForm(
            initial={
                "title": task.title,
                "description": task.description,
                "assignee": task.assignee_id,
                "due_at": task.due_at,
                "priority": task.priority,
                "version": task.version,
            },
            members=members,
        ),
        "move_form": MoveForm(initial={"version": task.version, "status": task.status}),
        "checklist_form": ChecklistAddForm(),
        "comment_form": CommentForm(),
        "attachment_form": AttachmentForm(),
    }
    context.update(extra)
    return context


def task(request, task_id: int):
    task = selectors.access_task(request.user, task_id)
    if request.method == "POST":
        form = TaskEditForm(request.POST, members=selectors.board_members(task.board))
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.task_update(
                    actor=request.user,
                    task_id=task.pk,
                    version=data["version"],
                    title=data["title"],
                    description=data["description"],
                    assignee=data["assignee"],
                    due_at=data["due_at"],
                    priority=data["priority"],
                )
            except ValidationError as exc:
                stale = _is_stale(exc)
                task = selectors.access_task(request.user, task_id)
                if stale:
                    # What was typed is kept, with the task's current version, so that
                    # sending it again (after looking at the change) is a deliberate act.
                    data = request.POST.copy()
                    data["version"] = str(task.version)
                    form = TaskEditForm(data, members=selectors.board_members(task.board))
                    form.is_valid()
                _add_errors(form, exc)
                context = _task_context(request, task, edit_form=form)
                return render(request, "tasks/task.html", context, status=409 if stale else 400)
            messages.success(request, _("The task was saved."))
            return redirect("tasks:task", task_id=task.pk)
        context = _task_context(request, task, edit_form=form)
        return render(request, "tasks/task.html", context, status=400)
    services.mentions_mark_seen(user=request.user, task_id=task.pk)
    return render(request, "tasks/task.html", _task_context(request, task))


@require_POST
def task_move(request, task_id: int):
    task = selectors.access_task(request.user, task_id)
    form = MoveForm(request.POST)
    error = ""
    conflict = False
    if form.is_valid():
        try:
            task = services.task_move(
                actor=request.user,
                task_id=task.pk,
                version=form.cleaned_data["version"],
                status=form.cleaned_data["status"] or None,
                direction=form.cleaned_data["direction"] or None,
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
            conflict = _is_stale(exc)
    else:
        error = _("This move could not be made. Reload the page and try again.")
    status = 409 if conflict else (400 if error else 200)
    if request.htmx and request.POST.get("from") == "board":
        context = _board_context(
            request,
            task.board,
            columns=selectors.kanban(task.board),
            move_error=error,
            moved=None if error else task,
            oob=True,
        )
        return render(request, "tasks/_columns.html", context, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            _("“%(title)s” is now in %(column)s.")
            % {"title": task.title, "column": task.get_status_display()},
        )
    if request.POST.get("from") == "board":
        return redirect(reverse("tasks:board", args=[task.board_id]) + f"#task-{task.pk}")
    return redirect("tasks:task", task_id=task.pk)


@require_POST
def checklist_add(request, task_id: int):
    task = selectors.access_task(request.user, task_id)
    form = ChecklistAddForm(request.POST)
    if form.is_valid():
        try:
            services.checklist_add(
                actor=request.user, task_id=task.pk, text=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
    if form.errors:
        context = _task_context(request, task, checklist_form=form)
        return render(request, "tasks/task.html", context, status=400)
    return redirect(reverse("tasks:task", args=[task.pk]) + "#checklist-h")


@require_POST
def checklist_set(request, item_id: int):
    item = ChecklistItem.objects.filter(pk=item_id).only("task_id").first()
    if item is None:
        access_intranet(request.user)
        raise Http404
    task = selectors.access_task(request.user, item.task_id)
    form = ChecklistSetForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    item = services.checklist_set(
        actor=request.user, item_id=item_id, done=form.cleaned_data["done"]
    )
    if request.htmx:
        return render(request, "tasks/_check_item.html", {"item": item, "task": task})
    return redirect(reverse("tasks:task", args=[task.pk]) + "#checklist-h")


@require_POST
def comment_add(request, task_id: int):
    task = selectors.access_task(request.user, task_id)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comment = services.comment_add(
                actor=request.user, task_id=task.pk, body=form.cleaned_data["body"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return redirect(reverse("tasks:task", args=[task.pk]) + f"#comment-{comment.pk}")
    context = _task_context(request, task, comment_form=form)
    return render(request, "tasks/task.html", context, status=400)


@require_POST
def attachment_add(request, task_id: int):
    task = selectors.access_task(request.user, task_id)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attachment_add(
                actor=request.user, task_id=task.pk, file=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("file", message)
        else:
            messages.success(request, _("The file was attached."))
            return redirect(reverse("tasks:task", args=[task.pk]) + "#files-h")
    context = _task_context(request, task, attachment_form=form)
    return render(request, "tasks/task.html", context, status=400)


@require_GET
def attachment(request, attachment_id: int):
    row = selectors.access_attachment(request.user, attachment_id)
    try:
        # The private storage as configured now (see services.attachment_add).
        handle = storages["private"].open(row.file.name, "rb")
    except OSError:
        raise Http404 from None
    return file_response(handle, filename=row.original_name, content_type=row.content_type)
