"""The clerk's registry pages: register a document, the entry and its actions, the
search over the register, the deadline watch. Thin: parse a form, call one service or
selector, render. Who may read what is in ``selectors.access_*`` / ``registry_scope``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import storages
from django.db.models import Q
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cetatea.core.security import file_response
from cetatea.core.workdays import local_date
from cetatea.intake.selectors import person_for_intake
from cetatea.people.selectors import person_search
from cetatea.registry import forms, selectors, services
from cetatea.registry.choices import Direction, EntryStatus, SenderKind

PAGE_SIZE_CAP = 100
BACK_PAGES = 20  # how many "previous page" steps a list page remembers
LINKED_LIMIT = 50
HISTORY_PAGE = 50


def _page_size() -> int:
    return min(settings.CETATEA_PAGE_SIZE, PAGE_SIZE_CAP)


def _add_errors(form, exc: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """A service's ValidationError put back on the form's fields (else on the form)."""
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for key, errors in exc.message_dict.items():
        target = aliases.get(key, key)
        for message in errors:
            form.add_error(target if target in form.fields else None, message)


def _is_stale(exc: ValidationError) -> bool:
    """The service refused because the entry changed since the page was shown."""
    if hasattr(exc, "error_dict"):
        return False
    return any(error.code == "stale" for error in exc.error_list)


def term_note(entry, today) -> str:
    """The term in words (days left, due today, overdue by), never in colour only."""
    if entry.status != EntryStatus.OPEN or entry.due_date is None:
        return ""
    days = (entry.due_date - today).days
    if days > 0:
        return ngettext("%(n)d day left", "%(n)d days left", days) % {"n": days}
    if days == 0:
        return _("due today")
    late = -days
    return ngettext("overdue by %(n)d day", "overdue by %(n)d days", late) % {"n": late}


def _today():
    return local_date(timezone.now())


# --- register a document -------------------------------------------------------------------

REGISTER_ALIASES = {
    "answers": "link_number",
    "joined_to": "link_number",
    "registered_at": None,
    "new_contacts": "sender_phone",
    "new_kind": None,
}


def _new_page(request, form, *, status=200, search=None):
    return render(
        request,
        "registry/new.html",
        {"form": form, "search": search, "chosen_person": _chosen_person(form)},
        status=status,
    )


def _chosen_person(form):
    value = form.data.get("person", "") if form.is_bound else form.initial.get("person", "")
    value = str(value or "")
    return person_for_intake(value) if value.isdigit() else None


def _register_access(user):
    selectors.access_registry(user)
    if not user.has_perm("registry.add_entry"):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
@login_required
def entry_new(request):
    _register_access(request.user)
    points = selectors.registry_points_for(request.user)
    first_point = points.first()
    if first_point is None:
        return render(request, "registry/no_point.html", status=403)

    if request.method == "GET":
        if request.htmx and "q" in request.GET:  # senders found as the clerk types
            query = request.GET.get("q", "")[:200]
            chosen = request.GET.get("person", "")
            return render(
                request,
                "registry/_persons.html",
                {
                    "search": person_search(query, page_size=10) if query.strip() else None,
                    "chosen_person": person_for_intake(chosen) if chosen.isdigit() else None,
                },
            )
        initial = {
            "submit_token": uuid.uuid4().hex,
            "point": first_point.pk,
            "direction": Direction.INCOMING,
            "sender_kind": SenderKind.PERSON,
            "channel": "counter",
            "pages": 1,
            "annexes": 0,
            "person": "",
        }
        return _new_page(request, forms.RegisterForm(initial=initial, points=points))

    if "search" in request.POST:  # without JavaScript: search, show, register later
        form = forms.RegisterForm(initial=request.POST.dict(), points=points)
        query = request.POST.get("q", "")[:200]
        search = person_search(query, page_size=10) if query.strip() else None
        return _new_page(request, form, search=search)

    form = forms.RegisterForm(request.POST, request.FILES, points=points)
    if not form.is_valid():
        return _new_page(request, form, status=400)
    data = form.cleaned_data
    choice = data["person"]
    person = person_for_intake(choice) if choice.isdigit() else None
    if choice.isdigit() and person is None:
        form.add_error(None, _("The chosen person does not exist any more; search again."))
        return _new_page(request, form, status=400)
    new_sender = None
    if choice == "new":
        new_sender = services.NewSender(
            last_name=data["new_last_name"],
            first_name=data["new_first_name"],
            national_id=data["new_national_id"],
            organisation=data["sender_kind"] != SenderKind.PERSON,
        )
    link = data["link_number"]
    try:
        result = services.registry_counter_register(
            new_sender=new_sender,
            files=data["files"],
            point=data["point"],
            doc_type=data["doc_type"],
            summary=data["summary"],
            direction=data["direction"],
            channel=data["channel"],
            sender_kind=data["sender_kind"],
            sender_name=data["sender_name"],
            sender_address=data["sender_address"],
            sender_email=data["sender_email"],
            sender_phone=data["sender_phone"],
            person=person,
            sender_reference=data["sender_reference"],
            sender_date=data["sender_date"],
            pages=data["pages"],
            annexes=data["annexes"],
            department=data["department"],
            addressee=data["addressee"],
            answers=link if data["link_kind"] == "answers" else None,
            joined_to=link if data["link_kind"] == "joined_to" else None,
            archive_item=data["archive_item"],
            actor=request.user,
            submit_token=data["submit_token"],
            case_category=data["case_category"],
        )
    except ValidationError as exc:
        _add_errors(form, exc, REGISTER_ALIASES)
        return _new_page(request, form, status=400)
    entry = result.entry
    if entry.due_date:
        message = _("Registered as %(n)s. Term: %(d)s.") % {
            "n": entry.display_number,
            "d": entry.due_date.strftime("%d.%m.%Y"),
        }
    elif entry.status in (EntryStatus.FILED, EntryStatus.JOINED):  # anonymous, a repeat
        message = _("Registered as %(n)s. %(r)s") % {
            "n": entry.display_number,
            "r": entry.resolution,
        }
    else:
        message = _("Registered as %(n)s.") % {"n": entry.display_number}
    messages.success(request, message)
    if result.not_stored:
        messages.error(
            request,
            _("These files could not be stored; attach them again below: %(names)s")
            % {"names": ", ".join(result.not_stored)},
        )
    return redirect("registry:entry", entry_id=entry.pk)


# --- the entry page ---------------------------------------------------------------------

ACTIONS = {
    # action: (form, permission, name in the template)
    "answer": (forms.AnswerForm, "registry.add_entry", "answer_form"),
    "extend": (forms.ExtendForm, "registry.extend_entry", "extend_form"),
    "forward": (forms.ForwardForm, "registry.change_entry", "forward_form"),
    "refuse": (forms.RefuseForm, "registry.change_entry", "refuse_form"),
    "file": (forms.FileForm, "registry.change_entry", "file_form"),
    "attach": (forms.AttachForm, "registry.add_entryfile", "attach_form"),
}


def _history(entry, cursor: str):
    events = entry.events.select_related("actor").order_by("created_at", "id")
    if cursor:
        try:
            at_s, pk_s = cursor.split("|", 1)
            at = dt.datetime.fromisoformat(at_s)
            pk = int(pk_s)
        except (TypeError, ValueError):
            raise Http404 from None
        events = events.filter(Q(created_at__gt=at) | Q(created_at=at, id__gt=pk))
    rows = list(events[: HISTORY_PAGE + 1])
    more = ""
    if len(rows) > HISTORY_PAGE:
        last = rows[HISTORY_PAGE - 1]
        more = f"{last.created_at.isoformat()}|{last.pk}"
    return rows[:HISTORY_PAGE], more


def _entry_context(request, entry, bound: dict | None = None) -> dict:
    user = request.user
    initial = {"version": entry.version}
    is_open = entry.status == EntryStatus.OPEN
    kind = entry.doc_type
    may = {
        "answer": entry.direction == Direction.INCOMING and user.has_perm("registry.add_entry"),
        "extend": is_open and bool(kind.extension_days) and not entry.extended_days,
        "forward": is_open and user.has_perm("registry.change_entry"),
        "refuse": is_open
        and kind.refusal_days is not None
        and user.has_perm("registry.change_entry"),
        "file": is_open and user.has_perm("registry.change_entry"),
        "attach": user.has_perm("registry.add_entryfile"),
    }
    # Extension: shown to who may grant it; the others are told who can.
    may_extend = user.has_perm("registry.extend_entry")
    action_forms = {
        "answer_form": forms.AnswerForm(
            initial={**initial, "submit_token": uuid.uuid4().hex, "addressee": entry.sender_name}
        ),
        "extend_form": forms.ExtendForm(initial={**initial, "days": kind.extension_days or None}),
        "forward_form": forms.ForwardForm(initial=initial),
        "refuse_form": forms.RefuseForm(initial=initial),
        "file_form": forms.FileForm(initial=initial),
        "attach_form": forms.AttachForm(initial=initial),
    }
    action_forms.update(bound or {})
    history, history_more = _history(entry, request.GET.get("history", "")[:100])
    today = _today()
    return {
        "entry": entry,
        "term_note": term_note(entry, today),
        "may": may,
        "may_extend": may_extend,
        "answered_by": list(
            entry.answered_by.select_related("book__point").order_by("registered_at", "id")[
                :LINKED_LIMIT
            ]
        ),
        "joined_entries": list(
            entry.joined_entries.select_related("book__point").order_by("registered_at", "id")[
                :LINKED_LIMIT
            ]
        ),
        "files": list(entry.files.order_by("created_at", "id")[:LINKED_LIMIT]),
        "history": history,
        "history_more": history_more,
        **action_forms,
    }


@require_GET
@login_required
def entry_detail(request, entry_id: int):
    entry = selectors.access_entry(request.user, entry_id)
    return render(request, "registry/entry.html", _entry_context(request, entry))


def _run(action: str, entry, data: dict, user) -> str:
    common = {"entry_id": entry.pk, "version": data["version"], "actor": user}
    if action == "answer":
        answer = services.registry_entry_answer_checked(
            **common,
            summary=data["summary"],
            channel=data["channel"],
            addressee=data["addressee"],
            pages=data["pages"],
            submit_token=data["submit_token"],
        )
        return _("The answer was registered as %(n)s.") % {"n": answer.display_number}
    if action == "extend":
        updated = services.registry_entry_extend(**common, days=data["days"], reason=data["reason"])
        return _("The term was extended to %(d)s and the sender was notified.") % {
            "d": updated.due_date.strftime("%d.%m.%Y")
        }
    if action == "forward":
        services.registry_entry_forward(**common, to=data["to"], reason=data["reason"])
        return _("The entry was forwarded and the sender was notified.")
    if action == "refuse":
        services.registry_entry_refuse(**common, reason=data["reason"])
        return _("The refusal was registered and the sender was notified.")
    if action == "file":
        services.registry_entry_file(**common, reason=data["reason"])
        return _("The entry was filed.")
    stored = services.registry_entry_add_file(**common, file=data["file"])
    return _("The file “%(name)s” was attached.") % {"name": stored.original_name}


@require_POST
@login_required
def entry_action(request, entry_id: int, action: str):
    entry = selectors.access_entry(request.user, entry_id)
    if action not in ACTIONS:
        raise Http404
    form_class, permission, form_name = ACTIONS[action]
    form = form_class(request.POST, request.FILES)
    status = 400
    conflict = False
    if not request.user.has_perm(permission):
        form.is_valid()
        form.add_error(None, _("Your role does not allow this action."))
        status = 403
    elif form.is_valid():
        try:
            message = _run(action, entry, form.cleaned_data, request.user)
        except PermissionError as exc:
            form.add_error(None, str(exc) or _("Your role does not allow this action."))
            status = 403
        except ValidationError as exc:
            if _is_stale(exc):
                conflict, status = True, 409
                entry = selectors.access_entry(request.user, entry_id)
                # The clerk's text is kept; sending it again is a decision on the new state.
                data = request.POST.copy()
                data[form.add_prefix("version")] = str(entry.version)
                form = form_class(data, request.FILES)
                form.is_valid()
            else:
                _add_errors(form, exc)
        else:
            messages.success(request, message)
            return redirect("registry:entry", entry_id=entry.pk)
    entry = selectors.access_entry(request.user, entry_id)
    context = _entry_context(request, entry, bound={form_name: form})
    # The action's form may be gone now (the entry was closed meanwhile, the role does not
    # allow it): its errors are then shown at the top of the page, without links.
    shown = context["may"].get(action, False) and (action != "extend" or context["may_extend"])
    context.update(
        conflict=conflict, failed_action=action, failed_form=form, failed_form_shown=shown
    )
    return render(request, "registry/entry.html", context, status=status)


@require_GET
@login_required
def entry_file(request, file_id: int):
    row = selectors.access_entry_file(request.user, file_id)
    try:
        # The private storage as configured now (see services.registry_entry_add_file).
        handle = storages["private"].open(row.file.name, "rb")
    except OSError:
        raise Http404 from None
    return file_response(handle, filename=row.original_name, content_type=row.content_type)


# --- the register: search and list ---------------------------------------------------------


def _within(scope, filters) -> bool:
    if scope.everything:
        return True
    if filters.point_id in scope.point_ids:
        return True
    if scope.department_id is not None and filters.department_id == scope.department_id:
        return True
    return False


def _list_data(request, scope) -> QueryDict:
    """The query with what the user may read put in: a clerk's first point when none is
    chosen, a department's staff their department."""
    data = request.GET.copy()
    if scope.everything:
        return data
    if "point" not in data and scope.point_ids:
        data["point"] = str(scope.point_ids[0])
    if not data.get("point") and scope.department_id is not None:
        data["department"] = str(scope.department_id)
    return data


def _query(params: QueryDict, **changes) -> str:
    query = params.copy()
    for key, value in changes.items():
        if isinstance(value, list):
            query.setlist(key, value)
        elif value:
            query[key] = value
        else:
            query.pop(key, None)
    return query.urlencode()


@require_GET
@login_required
def entry_list(request):
    scope = selectors.registry_scope(request.user)
    data = _list_data(request, scope)
    form = forms.SearchForm(data, scope=scope)
    context: dict = {"form": form, "page": None, "scope": scope}
    if not scope.everything and not scope.point_ids and scope.department_id is None:
        context["no_scope"] = True
        return render(request, "registry/list.html", context)
    if not form.is_valid():
        return render(request, "registry/list.html", context, status=400)
    clean = form.cleaned_data
    filters = selectors.EntryFilters(
        number=clean["number"],
        sender=clean["sender"],
        text=clean["text"],
        date_from=clean["date_from"],
        date_to=clean["date_to"],
        department_id=clean["department"].pk if clean["department"] else None,
        point_id=clean["point"].pk if clean["point"] else None,
        doc_type_id=clean["doc_type"].pk if clean["doc_type"] else None,
        status=clean["status"],
        direction=clean["direction"],
    )
    if not _within(scope, filters):
        raise PermissionDenied
    cursor = clean["cursor"]
    page = selectors.entry_search(filters, cursor=cursor, page_size=_page_size())
    today = _today()
    for entry in page.entries:
        entry.term_note = term_note(entry, today)
    back = [c[:200] for c in data.getlist("back")][-BACK_PAGES:]
    base = data.copy()
    for key in ("cursor", "back"):
        base.pop(key, None)
    previous_cursor = back[-1] if back else ""
    context.update(
        page=page,
        has_previous=bool(cursor),
        next_query=_query(base, cursor=page.next_cursor, back=[*back, cursor][-BACK_PAGES:])
        if page.next_cursor
        else "",
        previous_query=_query(base, cursor=previous_cursor, back=back[:-1]),
        first_query=base.urlencode(),
        print_query=_query(
            QueryDict(mutable=True),
            date_from=clean["date_from"].isoformat() if clean["date_from"] else "",
            date_to=clean["date_to"].isoformat() if clean["date_to"] else "",
            point=str(filters.point_id or ""),
        ),
    )
    return render(request, "registry/list.html", context)


# --- the deadline watch ---------------------------------------------------------------------


@require_GET
@login_required
def deadlines(request):
    scope = selectors.registry_scope(request.user)
    form = forms.DeadlinesForm(request.GET)
    department_id = None
    if form.is_valid() and form.cleaned_data["department"]:
        department_id = form.cleaned_data["department"].pk
    watch = selectors.deadline_watch_scoped(scope=scope, department_id=department_id)
    today = _today()
    for rows in watch.values():
        for entry in rows:
            entry.term_note = term_note(entry, today)
    return render(
        request,
        "registry/deadlines.html",
        {"form": form, "watch": watch, "today": today, "scope": scope},
        status=200 if form.is_valid() else 400,
    )
