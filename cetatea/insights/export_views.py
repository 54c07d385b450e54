"""Downloads of the management overview: a table as CSV/XLSX, a department's monthly PDF.

Refusals are short plain-text answers in the user's language: 400 for a bad period,
table, format or filter, 403 for a table or department outside the viewer's scope.
"""

from __future__ import annotations

import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotFound,
    StreamingHttpResponse,
)
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cetatea.cases.choices import Channel
from cetatea.core.security import harden_file_response
from cetatea.insights import exports, report, selectors


def _message(error: ValidationError) -> str:
    return " ".join(str(m) for m in error.messages)


def _bad_request(text: str) -> HttpResponse:
    return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")


def _export_viewer(user) -> selectors.Viewer:
    viewer = selectors.access_insights(user)
    if not user.has_perm(selectors.EXPORT_PERMISSION):
        raise PermissionDenied
    return viewer


def _optional_id(request: HttpRequest, name: str, label: str) -> int | None:
    raw = (request.GET.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise ValidationError(
            _("The %(filter)s filter must be a number.") % {"filter": label}, code="invalid"
        )
    return int(raw)


@login_required
@require_GET
def table(request: HttpRequest) -> HttpResponse:
    """``?table=&format=&start=&end=`` plus the drill-down filters (``department``,
    ``metric``, ``category``, ``area``, ``channel``)."""
    viewer = _export_viewer(request.user)
    params = request.GET
    name = (params.get("table") or "").strip()
    fmt = (params.get("format") or "csv").strip()
    try:
        if name not in exports.TABLES:
            raise ValidationError(
                _("There is no table “%(name)s”. Choose one of: %(tables)s.")
                % {"name": name[:40], "tables": ", ".join(exports.TABLES)}
            )
        if fmt not in exports.FORMATS:
            raise ValidationError(
                _("There is no format “%(format)s”; choose csv or xlsx.") % {"format": fmt[:20]}
            )
        period = selectors.parse_period(params.get("start"), params.get("end"))
        code = (params.get("department") or "").strip()
        department = selectors.department_by_code(code) if code else None
        channel = (params.get("channel") or "").strip()
        if channel and channel not in Channel.values:
            raise ValidationError(_("There is no channel “%(c)s”.") % {"c": channel[:20]})
        category_id = _optional_id(request, "category", _("category"))
        area_id = _optional_id(request, "area", _("neighbourhood"))
        metric = (params.get("metric") or "received").strip()
    except ValidationError as error:
        return _bad_request(_message(error))
    if not viewer.city:
        # A department's viewer sees their department and nothing of the whole city.
        if name in exports.CITY_TABLES:
            raise PermissionDenied
        if department is not None and not viewer.may_see(department):
            raise PermissionDenied
        department = viewer.department
    try:
        data = exports.build(
            name,
            period,
            department=department,
            metric=metric,
            category_id=category_id,
            area_id=area_id,
            channel=channel,
        )
    except ValidationError as error:
        return _bad_request(_message(error))
    filename = exports.filename(name, period, fmt)
    if fmt == "csv":
        response = StreamingHttpResponse(
            exports.csv_chunks(data), content_type="text/csv; charset=utf-8"
        )
        return harden_file_response(response, filename=filename)
    limit = exports.XLSX_MAX_ROWS - exports.HEADER_ROWS
    if data.count(limit) > limit:
        return _bad_request(
            _(
                "This table has more rows than a spreadsheet holds (%(limit)s): "
                "export it as CSV instead."
            )
            % {"limit": f"{limit:,}"}
        )
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it when sent
    try:
        exports.write_xlsx(data, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return harden_file_response(
        FileResponse(
            out,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        filename=filename,
    )


@login_required
@require_GET
def department_report(request: HttpRequest, code: str, year: int, month: int) -> HttpResponse:
    """The department's monthly report as a PDF (city viewers: any department)."""
    viewer = _export_viewer(request.user)
    try:
        department = selectors.department_by_code(code)
    except ValidationError as error:
        return HttpResponseNotFound(_message(error), content_type="text/plain; charset=utf-8")
    if not viewer.may_see(department):
        raise PermissionDenied
    try:
        first = report.month_start(year, month)
    except ValidationError as error:
        return _bad_request(_message(error))
    pdf = report.department_month_pdf(department, first)
    response = HttpResponse(pdf, content_type="application/pdf")
    return harden_file_response(response, filename=report.filename(department, first), inline=True)
