"""Staff console views: the queues, the case page and its actions, bulk actions."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cetatea.cases.choices import OPEN_STATUSES, Priority, Status
from cetatea.catalog.models import Team
from cetatea.console import forms, selectors, services
from cetatea.core.maps import map_config
from cetatea.notify import selectors as notify_selectors

PAGE_SIZE_CAP = 100


def _page_size() -> int:
    return min(settings.CETATEA_PAGE_SIZE, PAGE_SIZE_CAP)


def _queue_filters(request, form) -> selectors.QueueFilters:
    data = form.cleaned_data
    if "department" in request.GET:
        department = data["department"]
    else:
        department = selectors.user_department(request.user)
    team_ids = None
    if data["team"] == "mine":
        team_ids = list(request.user.teams.values_list("pk", flat=True))
    elif data["team"]:
        team_ids = [int(data["team"])]
    return selectors.QueueFilters(
        department=department,
        team_ids=team_ids,
        statuses=data["status"] or sorted(OPEN_STATUSES),
        category_id=data["category"].pk if data["category"] else None,
        area_id=data["area"].pk if data["area"] else None,
        channel=data["channel"],
        due=data["due"],
        assigned=data["assigned"],
        sort=data["sort"] or "due",
    )


@require_GET
@login_required
def queue(request):
    selectors.access_console(request.user)
    form = forms.QueueForm(request.GET, teams=Team.objects.order_by("name_ro")[:200])
    page = None
    filters = None
    if form.is_valid():
        filters = _queue_filters(request, form)
        page = selectors.case_queue(
            user=request.user,
            filters=filters,
            cursor=form.cleaned_data["cursor"],
            page_size=_page_size(),
        )
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "form": form,
        "page": page,
        "filters": filters,
        "query": query.urlencode(),
        "next_query": _with(query, cursor=page.next_cursor) if page and page.next_cursor else "",
        "saved_views": selectors.saved_views(request.user),
        "saved_form": forms.SavedViewForm(initial={"query": query.urlencode()}),
        "bulk_form": forms.BulkForm(),
        "status_labels": dict(Status.choices),
        "priority_labels": dict(Priority.choices),
    }
    status = 200 if form.is_valid() else 400
    return render(request, "console/queue.html", context, status=status)


def _with(query, **extra) -> str:
    params = query.copy()
    for key, value in extra.items():
        params[key] = value
    return params.urlencode()


@require_POST
@login_required
def bulk(request):
    selectors.access_console(request.user)
    form = forms.BulkForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    back = back or reverse("console:queue")
    if not form.is_valid():
        return render(request, "console/bulk.html", {"form": form, "back": back}, status=400)
    data = form.cleaned_data
    try:
        results = services.console_bulk(
            case_ids=data["cases"],
            action=data["action"],
            actor=request.user,
            assignee=data["assignee"],
            team=data["team"],
            status=data["status"],
            into_reference=data["into"],
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return render(request, "console/bulk.html", {"form": form, "back": back}, status=400)
    return render(request, "console/bulk.html", {"results": results, "back": back})


@require_POST
@login_required
def saved_view_save(request):
    selectors.access_console(request.user)
    form = forms.SavedViewForm(request.POST)
    if form.is_valid():
        try:
            view = services.saved_view_create(
                user=request.user, name=form.cleaned_data["name"], query=form.cleaned_data["query"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The view “%(name)s” was saved.") % {"name": view.name})
            return redirect(f"{reverse('console:queue')}?{view.query}")
    else:
        messages.error(request, _("Give the view a name."))
    return redirect("console:queue")


@require_POST
@login_required
def saved_view_delete(request, view_id: int):
    selectors.access_console(request.user)
    try:
        services.saved_view_delete(user=request.user, view_id=view_id)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("The saved view was deleted."))
    return redirect("console:queue")


# --- the case page ----------------------------------------------------------------------


def _case_context(request, case, bound: dict | None = None) -> dict:
    version = selectors.case_version(case)
    initial = {"version": version}
    note_initial = dict(initial)
    canned_id = request.GET.get("canned", "")
    canned = selectors.canned_responses(case)
    if canned_id.isdigit():
        chosen = next((c for c in canned if c.pk == int(canned_id)), None)
        if chosen is not None:
            note_initial.update(text=chosen.text, public=True)
    forms_ = {
        "assign_form": forms.AssignForm(initial={**initial, "assignee": case.assignee_id}),
        "team_form": forms.TeamForm(initial={**initial, "team": case.team_id}),
        "status_form": forms.StatusForm(initial=initial, allowed=selectors.transitions_for(case)),
        "note_form": forms.NoteForm(initial=note_initial),
        "attachment_form": forms.AttachmentForm(initial=initial),
        "merge_form": forms.MergeForm(initial=initial),
        "forward_form": forms.ForwardForm(initial=initial),
        "forward_department_form": forms.ForwardDepartmentForm(
            initial=initial, current=case.department_id
        ),
    }
    forms_.update(bound or {})
    operator = case.operator or case.category.operator
    history = selectors.case_history(case, page_size=_page_size())
    return {
        "case": case,
        "version": version,
        "history": history,
        "department_names": selectors.history_department_names(history),
        "photos": selectors.case_photos(case),
        "attachments": list(case.attachments.all()[:50]),
        "canned": canned,
        "forward_operator": operator,
        # Messages to the citizen (e-mail, SMS), a failed one shown as an alert.
        "notifications": notify_selectors.case_notifications(case_id=case.pk),
        "failed_count": notify_selectors.case_failed_notifications_count(case_id=case.pk),
        # The mini-map of the case's point (the portal's Leaflet assets and case.js).
        "map_config": map_config() if case.latitude is not None else None,
        **forms_,
    }


@require_GET
@login_required
def case_detail(request, case_id: int):
    case = selectors.access_case(request.user, case_id)
    return render(request, "console/case.html", _case_context(request, case))


@require_GET
@login_required
def case_history(request, case_id: int):
    case = selectors.access_case(request.user, case_id)
    history = selectors.case_history(
        case, cursor=request.GET.get("cursor", ""), page_size=_page_size()
    )
    template = "console/_history.html" if request.htmx else "console/history.html"
    context = {
        "case": case,
        "history": history,
        "department_names": selectors.history_department_names(history),
    }
    return render(request, template, context)


_ACTIONS = {
    "assign": (forms.AssignForm, "assign_form"),
    "team": (forms.TeamForm, "team_form"),
    "status": (forms.StatusForm, "status_form"),
    "note": (forms.NoteForm, "note_form"),
    "attach": (forms.AttachmentForm, "attachment_form"),
    "merge": (forms.MergeForm, "merge_form"),
    "forward": (forms.ForwardForm, "forward_form"),
    "forward_department": (forms.ForwardDepartmentForm, "forward_department_form"),
}


def _run(action: str, case, data: dict, user):
    version = data["version"]
    common = {"case_id": case.pk, "version": version, "actor": user}
    if action == "assign":
        services.console_assign(**common, assignee=data["assignee"])
        return _("The case was assigned.")
    if action == "team":
        services.console_assign_team(**common, team=data["team"])
        return _("The case was given to the team.")
    if action == "status":
        services.console_change_status(
            **common, status=data["status"], text=data["text"], public=data["public"]
        )
        return _("The status was changed.")
    if action == "note":
        services.console_add_note(**common, text=data["text"], public=data["public"])
        return _("The reply was recorded.") if data["public"] else _("The note was recorded.")
    if action == "attach":
        services.console_add_attachment(**common, file=data["file"], public=data["public"])
        return _("The file was attached.")
    if action == "merge":
        services.console_merge(**common, into_reference=data["reference"], text=data["text"])
        return _("The case was merged.")
    if action == "forward_department":
        case = services.console_forward_department(
            **common, department=data["department"], reason=data["reason"]
        )
        return _("The case was forwarded to the department “%(name)s”.") % {"name": case.department}
    services.console_forward(**common, note=data["note"])
    return _("The case was forwarded to the operator and the citizen was told.")


@require_POST
@login_required
def case_action(request, case_id: int, action: str):
    case = selectors.access_case(request.user, case_id)
    if action not in _ACTIONS:
        raise Http404
    form_class, form_name = _ACTIONS[action]
    # Posted choices are checked against every allowed value, not the ones shown for the
    # case's current state: the service refuses what does not apply with a clear message,
    # and a stale double submit reaches the version check instead of a choice error.
    kwargs = {"allowed": None} if action == "status" else {}
    form = form_class(request.POST, request.FILES, **kwargs)
    status = 400
    conflict = None
    if form.is_valid():
        try:
            message = _run(action, case, form.cleaned_data, request.user)
        except services.CaseConflict as exc:
            conflict, status = exc, 409
            case = selectors.access_case(request.user, case_id)
            data = request.POST.copy()
            data[form.add_prefix("version")] = selectors.case_version(
                case
            )  # a resubmit is a decision
            form = form_class(data, request.FILES, **kwargs)
            form.is_valid()
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("Your role does not allow this action."))
            status = 403
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                for error in exc.messages:
                    form.add_error(None, error)
        else:
            messages.success(request, message)
            return redirect("console:case", case_id=case.pk)
    context = _case_context(request, case, bound={form_name: form})
    context.update(conflict=conflict, failed_action=action)
    return render(request, "console/case.html", context, status=status)
