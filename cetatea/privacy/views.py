"""Staff pages of GDPR work: the audit log viewer (and its CSV), a person's data export
(JSON, PDF) and erasure. Every read of a person's trail and every export is audited."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cetatea.core.clientip import client_ip
from cetatea.core.models import AuditLog
from cetatea.core.security import harden_file_response
from cetatea.people.selectors import person_search
from cetatea.privacy import exports, selectors, services
from cetatea.privacy.forms import AuditFilterForm, EraseForm, ExportForm

PAGE_SIZE_CAP = 100


def _filters(form: AuditFilterForm) -> selectors.AuditFilters:
    data = form.cleaned_data
    return selectors.AuditFilters(
        person_id=form.person_id(),
        actor_id=data.get("actor"),
        action=data.get("action") or "",
        since=data.get("since"),
        until=data.get("until"),
    )


def _filter_query(form: AuditFilterForm) -> dict[str, str]:
    return {
        k: str(v)
        for k in ("person", "actor", "action", "since", "until")
        if (v := form.cleaned_data.get(k)) not in (None, "")
    }


@require_GET
@login_required
def audit_log(request):
    """The audit log, newest first, filtered; "older" pages by keyset cursor."""
    selectors.access_audit_log(request.user)
    form = AuditFilterForm(request.GET or None, staff_choices=selectors.staff_choices())
    status, page, matches, query = 200, None, None, {}
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        if form.is_bound:
            filters, query = _filters(form), _filter_query(form)
            name = form.person_name()
        else:
            filters, name = selectors.AuditFilters(), ""
        if name:  # a name: choose the person first
            matches = person_search(name, page_size=20)
        else:
            cursor = form.cleaned_data.get("cursor", "") if form.is_bound else ""
            page = selectors.audit_search(
                filters, cursor=cursor, page_size=min(settings.CETATEA_PAGE_SIZE, PAGE_SIZE_CAP)
            )
            if filters.person_id is not None:  # reading a person's trail is itself audited
                services.audit_write(
                    actor=request.user,
                    action=AuditLog.Action.VIEW_AUDIT,
                    person_id=filters.person_id,
                    object_repr=f"#{filters.person_id}",
                    ip_address=client_ip(request),
                    details={"filters": query},
                )
    context = {
        "form": form,
        "page": page,
        "matches": matches,
        "query": urlencode(query),
        "next_query": urlencode({**query, "cursor": page.next_cursor})
        if page and page.next_cursor
        else "",
        "is_first_page": not request.GET.get("cursor"),
    }
    return render(request, "privacy/audit_log.html", context, status=status)


@require_GET
@login_required
def audit_log_csv(request):
    """The filtered audit log as CSV, newest first, at most CETATEA_AUDIT_EXPORT_MAX_ROWS."""
    selectors.access_audit_log(request.user)
    form = AuditFilterForm(request.GET, staff_choices=selectors.staff_choices())
    if not form.is_valid() or form.person_name():
        return render(
            request,
            "privacy/audit_log.html",
            {"form": form, "page": None, "matches": None, "csv_error": True},
            status=400,
        )
    filters, cap = _filters(form), settings.CETATEA_AUDIT_EXPORT_MAX_ROWS
    services.audit_write(
        actor=request.user,
        action=AuditLog.Action.EXPORT,
        person_id=filters.person_id,
        object_repr=_("Audit log (CSV)"),
        ip_address=client_ip(request),
        details={"filters": _filter_query(form), "max_rows": cap},
    )
    rows = selectors.audit_queryset(filters).select_related("actor")[:cap].iterator(chunk_size=2000)
    response = StreamingHttpResponse(
        exports.audit_csv(rows), content_type="text/csv; charset=utf-8"
    )
    return harden_file_response(response, filename="audit-log.csv")


@require_GET
@login_required
def person(request, person_id: int):
    """What can be done with a person's data here: export it, or erase it."""
    p = selectors.access_person_privacy(request.user, person_id)
    context = {
        "person": p,
        "export_form": ExportForm(),
        "erasure": selectors.person_erasure(p),
        "blockers": selectors.erasure_blockers(p)
        if request.user.has_perm("privacy.erase_person")
        else [],
        "kept": selectors.legal_records(p),
    }
    return render(request, "privacy/person.html", context)


def _export(request, person_id: int, fmt: str):
    p = selectors.access_person_export(request.user, person_id)
    form = ExportForm(request.GET)
    if not form.is_valid():
        context = {"person": p, "export_form": form, "kept": selectors.legal_records(p)}
        return render(request, "privacy/person.html", context, status=400)
    services.audit_write(
        actor=request.user,
        action=AuditLog.Action.EXPORT,
        person_id=p.pk,
        object_repr=str(p),
        reason=form.cleaned_data["reason"],
        ip_address=client_ip(request),
        details={"format": fmt, "schema_version": selectors.SCHEMA_VERSION},
    )
    sections = selectors.person_data(p)
    if fmt == "json":
        response = StreamingHttpResponse(
            exports.person_json(p, sections), content_type="application/json; charset=utf-8"
        )
        return harden_file_response(response, filename=exports.export_filename(p, "json"))
    response = FileResponse(exports.person_pdf(p, sections), content_type="application/pdf")
    return harden_file_response(response, filename=exports.export_filename(p, "pdf"))


@require_GET
@login_required
def export_json(request, person_id: int):
    return _export(request, person_id, "json")


@require_GET
@login_required
def export_pdf(request, person_id: int):
    return _export(request, person_id, "pdf")


@require_http_methods(["GET", "POST"])
@login_required
def erase(request, person_id: int):
    """Two steps: the reason, then the record number typed again; then it is done."""
    p = selectors.access_person_erase(request.user, person_id)
    form = EraseForm(request.POST or None)
    blockers = selectors.erasure_blockers(p)
    step = "reason"
    status = 200
    if request.method == "POST" and form.is_valid() and not blockers:
        typed = form.cleaned_data["confirm"].strip().lstrip("#")
        if not typed:
            step = "confirm"
        elif typed != str(p.pk):
            form.add_error("confirm", _("This is not the record number of this person."))
            step = "confirm"
        else:
            try:
                services.person_erase(
                    person_id=p.pk,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    ip_address=client_ip(request),
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, _("The person's data was erased."))
                return redirect("privacy:person", person_id=p.pk)
    if form.errors or (request.method == "POST" and blockers):
        status = 400
    context = {
        "person": p,
        "form": form,
        "blockers": blockers,
        "step": step,
        "kept": selectors.legal_records(p),
    }
    return render(request, "privacy/erase.html", context, status=status)
