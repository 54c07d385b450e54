"""The staff pages of the management overview: the city, one department, the cases
behind a figure. Every figure is read through ``selectors``; the views only validate
the filters, arrange the figures into tiles and tables, and build the links."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from cetatea.catalog.models import Department
from cetatea.insights import charts, selectors
from cetatea.insights.exports import TABLES as EXPORT_TABLES
from cetatea.insights.forms import DrillForm, MonthForm, PeriodForm

PAGE_SIZE = 50


# ------------------------------------------------------------------------- formatting


def fmt_count(value) -> str:
    return "—" if value is None else number_format(value, force_grouping=True)


def fmt_pct(value) -> str:
    return "—" if value is None else f"{number_format(value, 1)} %"


def fmt_duration(seconds) -> str:
    """Hours up to two days, days after."""
    if seconds is None:
        return "—"
    hours = abs(seconds) / 3600
    sign = "-" if seconds < 0 else ""
    if hours < 48:
        return _("%(sign)s%(n)s h") % {"sign": sign, "n": number_format(hours, 1)}
    return _("%(sign)s%(n)s d") % {"sign": sign, "n": number_format(hours / 24, 1)}


def fmt_score(value) -> str:
    return "—" if value is None else f"{number_format(value, 2)} / 5"


_FORMAT = {"count": fmt_count, "pct": fmt_pct, "duration": fmt_duration, "score": fmt_score}


def fmt_change(kind: str, value, before) -> str:
    """The change from ``before`` to ``value`` (percentage points for percentages)."""
    if value is None or before is None:
        return "—"
    diff = value - before
    if kind == "duration":
        return ("+" if diff > 0 else "") + fmt_duration(diff)
    if kind == "pct":
        return _("%(diff)s pp") % {"diff": f"{'+' if diff > 0 else ''}{number_format(diff, 1)}"}
    if kind == "score":
        return f"{'+' if diff > 0 else ''}{number_format(diff, 2)}"
    text = f"{'+' if diff > 0 else ''}{number_format(diff, force_grouping=True)}"
    if before:
        text += f" ({'+' if diff > 0 else ''}{number_format(100 * diff / before, 1)} %)"
    return text


# ------------------------------------------------------------------------------ links


def _filters(period: selectors.Period, compare: str = "", **extra) -> dict[str, str]:
    params = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    if compare:
        params["compare"] = compare
    params.update({k: str(v) for k, v in extra.items() if v not in (None, "")})
    return params


def drill_url(metric: str, period: selectors.Period, **filters) -> str:
    return (
        reverse("insights:cases")
        + "?"
        + urlencode({"metric": metric, **_filters(period, **filters)})
    )


def export_urls(table: str, params: dict[str, str]) -> dict[str, str]:
    base = reverse("insights_export:table")
    return {
        fmt: base + "?" + urlencode({"table": table, "format": fmt, **params})
        for fmt in ("csv", "xlsx")
    }


# ------------------------------------------------------------------------------ tiles


# (attribute of Indicators, label, kind, drill-down figure, counted now)
TILES = (
    ("received", gettext_lazy("Received"), "count", "received", False),
    ("resolved", gettext_lazy("Resolved"), "count", "resolved", False),
    ("backlog", gettext_lazy("Open at the end of the period"), "count", None, False),
    ("open_now", gettext_lazy("Open now"), "count", "open", True),
    ("overdue_now", gettext_lazy("Overdue now"), "count", "overdue", True),
    ("first_response_median", gettext_lazy("First response, median"), "duration", None, False),
    (
        "first_response_p90",
        gettext_lazy("First response, 90th percentile"),
        "duration",
        None,
        False,
    ),
    ("resolution_median", gettext_lazy("Resolution time, median"), "duration", None, False),
    ("resolution_p90", gettext_lazy("Resolution time, 90th percentile"), "duration", None, False),
    ("on_time_pct", gettext_lazy("Resolved on time"), "pct", "resolved_late", False),
    ("reopen_pct", gettext_lazy("Reopened after resolution"), "pct", "reopened", False),
    ("forwarded_pct", gettext_lazy("Forwarded to another department"), "pct", "forwarded", False),
    ("first_contact_pct", gettext_lazy("Resolved at the first contact"), "pct", None, False),
    ("satisfaction", gettext_lazy("Satisfaction"), "score", None, False),
    ("with_photo_pct", gettext_lazy("With a photo"), "pct", None, False),
    ("with_location_pct", gettext_lazy("With a place on the map"), "pct", None, False),
)


@dataclass
class Tile:
    key: str
    label: str
    value: str
    before: str = ""
    change: str = ""
    href: str = ""
    href_label: str = ""


def _tiles(ind, before, period, compare, department) -> list[Tile]:
    out = []
    code = department.code if department else ""
    for attr, label, kind, metric, now in TILES:
        value = getattr(ind, attr)
        tile = Tile(attr, str(label), _FORMAT[kind](value))
        if before is not None and not now:
            tile.before = _FORMAT[kind](getattr(before, attr))
            tile.change = fmt_change(kind, value, getattr(before, attr))
        if metric:
            tile.href = drill_url(metric, period, compare=compare, department=code)
            if metric == "resolved_late":
                tile.href_label = _("cases resolved late")
        out.append(tile)
    return out


# ----------------------------------------------------------------------------- tables


@dataclass
class Row:
    label: str
    href: str = ""
    cells: list = field(default_factory=list)  # (text, href)


def _breakdown_table(rows, by, period, compare, department, codes=None) -> list[Row]:
    out = []
    for r in rows:
        ind = r.indicators
        filters = {"compare": compare, "department": department.code if department else ""}
        href = ""
        if by == "department":
            code = (codes or {}).get(r.key)
            if code:
                filters["department"] = code
                href = (
                    reverse("insights:department", kwargs={"code": code})
                    + "?"
                    + urlencode(_filters(period, compare))
                )
            else:
                filters = None
        elif by in ("category", "area"):
            if r.key.isdigit() and r.key != "0":
                filters[by] = r.key
            else:
                filters = None
        elif by == "channel":
            filters["channel"] = r.key

        def link(metric, filters=filters):
            return drill_url(metric, period, **filters) if filters is not None else ""

        out.append(
            Row(
                r.label,
                href,
                [
                    (fmt_count(ind.received), link("received")),
                    (fmt_count(ind.resolved), link("resolved")),
                    (fmt_count(ind.backlog), ""),
                    (fmt_count(ind.open_now), link("open")),
                    (fmt_count(ind.overdue_now), link("overdue")),
                    (fmt_pct(ind.on_time_pct), ""),
                    (fmt_duration(ind.resolution_median), ""),
                ],
            )
        )
    return out


# ------------------------------------------------------------------------------ pages


def _viewer(request) -> selectors.Viewer:
    return selectors.access_insights(request.user)


@require_GET
@login_required
def dashboard(request):
    viewer = _viewer(request)
    if not viewer.city:
        url = reverse("insights:department", kwargs={"code": viewer.department.code})
        if request.GET:
            url += "?" + request.GET.urlencode()
        return redirect(url)
    return _overview(request, department=None)


def _department_not_found(request, code: str):
    message = _("There is no department “%(code)s”.") % {"code": code[:40]}
    return render(request, "insights/not_found.html", {"message": message}, status=404)


@require_GET
@login_required
def department(request, code: str):
    viewer = _viewer(request)
    dept = Department.objects.filter(code=code).first()
    if dept is None:
        return _department_not_found(request, code)
    if not viewer.may_see(dept):
        raise PermissionDenied
    return _overview(request, department=dept, viewer=viewer)


def _trend_rows(points, period) -> list[charts.TrendRow]:
    daily = period.days <= 62
    return [
        charts.TrendRow(
            p.start.strftime("%d.%m") if daily else p.start.strftime("%m.%Y"),
            p.received,
            p.resolved,
            p.backlog,
        )
        for p in points
    ]


def _overview(request, *, department: Department | None, viewer=None):
    form = PeriodForm(request.GET)
    context = {"form": form, "department": department, "viewer": viewer}
    if not form.is_valid():
        return render(request, "insights/overview.html", context, status=400)
    period, compared = form.period, form.compared
    compare = form.cleaned_data.get("compare") or ""
    params = _filters(period, compare, department=department.code if department else "")
    ind = selectors.indicators(period, department=department)
    before = selectors.indicators(compared, department=department) if compared else None
    points = selectors.trend(period, department=department)
    trend_rows = _trend_rows(points, period)
    scope = department.name if department else _("the city")
    context.update(
        period=period,
        compared=compared,
        params=urlencode(params),
        period_params=urlencode(_filters(period, compare)),
        tiles=_tiles(ind, before, period, compare, department),
        no_data=not (ind.received or ind.resolved or ind.backlog or ind.closed)
        and not any(p.received or p.resolved or p.backlog for p in points),
        refreshed_at=selectors.refreshed_at(),
        trend=trend_rows,
        trend_chart=charts.trend_chart(
            trend_rows,
            chart_id="trend",
            title=_("Received and resolved cases, %(scope)s, %(period)s")
            % {"scope": scope, "period": period},
            desc=_(
                "Hatched bars: received; solid bars: resolved; dashed line with squares: "
                "cases open at the end of each %(unit)s. The table below has the numbers."
            )
            % {"unit": _("day") if period.days <= 62 else _("month")},
        ),
        legal=selectors.legal(period, department=department),
        exports={name: export_urls(name, params) for name in EXPORT_TABLES if name != "cases"},
    )
    tables = []
    if department is None:
        rows = selectors.breakdown(period, "department")
        codes = dict(
            (str(pk), code)
            for pk, code in Department.objects.filter(
                pk__in=[int(r.key) for r in rows if r.key.isdigit()]
            ).values_list("pk", "code")
        )
        dept_rows = _breakdown_table(rows, "department", period, compare, None, codes)
        tables.append(("departments", _("By department"), _("Department"), dept_rows))
        context["overdue"] = [
            (row, r.indicators.overdue_now, row.cells[4][1])
            for row, r in zip(dept_rows, rows, strict=True)
            if r.indicators.overdue_now
        ]
        context["registry_points"] = selectors.registry_points(period)
        context["robot"] = selectors.robot(period)
        heat = selectors.heat(period)
    else:
        tables.append(
            (
                "categories",
                _("By category"),
                _("Category"),
                _breakdown_table(
                    selectors.breakdown(period, "category", department=department),
                    "category",
                    period,
                    compare,
                    department,
                ),
            )
        )
        heat = []
        context["overdue_href"] = drill_url("overdue", period, department=department.code)
        context.update(_report_links(department))
    for by, name, caption, column in (
        ("channel", "channels", _("By channel"), _("Channel")),
        ("area", "areas", _("By area"), _("Area")),
    ):
        tables.append(
            (
                name,
                caption,
                column,
                _breakdown_table(
                    selectors.breakdown(period, by, department=department),
                    by,
                    period,
                    compare,
                    department,
                ),
            )
        )
    context["tables"] = [
        (name, caption, column, rows, context["exports"][name])
        for name, caption, column, rows in tables
    ]
    areas = selectors.area_map(period, department=department)
    context["areas"] = areas
    context["map_data"] = {
        "areas": [
            {
                "name": a.label,
                "received": a.received,
                "open": a.open_now,
                "overdue": a.overdue_now,
                "geometry": a.area.geometry,
            }
            for a in areas
            if a.area is not None
        ],
        "heat": [[lat, lon, n] for lat, lon, n in heat],
        "cell": 1 / 2**9,
        "labels": {
            "received": _("received"),
            "open": _("open now"),
            "overdue": _("overdue now"),
        },
    }
    from cetatea.core.maps import map_config

    context["map_config"] = map_config()
    return render(request, "insights/overview.html", context)


def _report_links(department: Department) -> dict:
    last = selectors.today().replace(day=1) - dt.timedelta(days=1)
    return {
        "report_month": last,
        "report_url": reverse(
            "insights_export:department_report",
            kwargs={"code": department.code, "year": last.year, "month": last.month},
        ),
        "month_form": MonthForm(initial={"month": last.strftime("%Y-%m")}),
    }


@require_GET
@login_required
def department_report(request, code: str):
    """The month picker of the PDF report: on to the report of the month chosen."""
    viewer = _viewer(request)
    dept = Department.objects.filter(code=code).first()
    if dept is None:
        return _department_not_found(request, code)
    if not viewer.may_see(dept):
        raise PermissionDenied
    form = MonthForm(request.GET)
    if not form.is_valid():
        return render(
            request, "insights/month.html", {"form": form, "department": dept}, status=400
        )
    month = form.cleaned_data["month"]
    return redirect(
        "insights_export:department_report", code=dept.code, year=month.year, month=month.month
    )


@require_GET
@login_required
def cases(request):
    viewer = _viewer(request)
    form = DrillForm(request.GET)
    context = {"form": form}
    if not form.is_valid():
        return render(request, "insights/cases.html", context, status=400)
    drill = form.drill_filter()
    if not viewer.city:
        if drill.department is None:
            drill.department = viewer.department
        elif not viewer.may_see(drill.department):
            raise PermissionDenied
    page = form.cleaned_data.get("page") or 1
    offset = (page - 1) * PAGE_SIZE
    qs = selectors.drill_cases(drill).select_related("category", "department", "area")
    rows = list(qs[offset : offset + PAGE_SIZE + 1])
    params = request.GET.copy()
    params.pop("page", None)
    if drill.department is not None:
        params["department"] = drill.department.code

    def page_url(n):
        q = params.copy()
        q["page"] = str(n)
        return "?" + q.urlencode()

    export_params = {k: v for k, v in params.items()}
    context.update(
        drill=drill,
        metric_label=dict(form.fields["metric"].choices).get(drill.metric, drill.metric),
        cases=rows[:PAGE_SIZE],
        page=page,
        first=offset + 1,
        next_url=page_url(page + 1) if len(rows) > PAGE_SIZE else "",
        previous_url=page_url(page - 1) if page > 1 else "",
        exports={"cases": export_urls("cases", export_params)},
        back_url=(
            reverse("insights:department", kwargs={"code": drill.department.code})
            if drill.department is not None
            else reverse("insights:dashboard")
        )
        + "?"
        + urlencode(_filters(form.period, form.cleaned_data.get("compare") or "")),
    )
    return render(request, "insights/cases.html", context)
