"""The management overview's tables as CSV and XLSX files (``export_views.py`` serves them).

A table is a title, a header and an iterator of rows: the figures come from the
selectors, the drill-down's cases are read with ``QuerySet.iterator(chunk_size=...)``
(a server-side cursor on PostgreSQL, ``fetchmany`` on SQLite), so a 2,000,000-case export
holds one chunk in memory. CSV is produced while it is sent; XLSX is written by
xlsxwriter in ``constant_memory`` mode to a temporary file, which is then sent from disk.

The cases table holds no personal data: no requester, contact, title or description.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import xlsxwriter
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from cetatea.cases.choices import Channel, Status
from cetatea.catalog.models import Area, Category, Department
from cetatea.insights import metrics as m
from cetatea.insights import selectors
from cetatea.insights.selectors import DrillFilter, Period

TABLES = (
    "departments",
    "categories",
    "areas",
    "channels",
    "trend",
    "legal",
    "registry_points",
    "robot",
    "cases",
)
# Tables of the whole institution, with no department in them.
CITY_TABLES = ("registry_points", "robot")
FORMATS = ("csv", "xlsx")
# Excel's sheet holds 1,048,576 rows; two of them are the title and the header.
XLSX_MAX_ROWS = 1_048_576
HEADER_ROWS = 2
CHUNK_SIZE = 2000
BOM = "\ufeff"

_BREAKDOWN_OF = {
    "departments": "department",
    "categories": "category",
    "areas": "area",
    "channels": "channel",
}


@dataclass
class Table:
    """One export: what it is, its columns, its rows (consumed once, lazily)."""

    name: str
    title: str
    header: list[str]
    rows: Iterable[list[Any]]
    # The number of rows, counting at most up to ``limit`` + 1 (cheap for any size).
    count: Callable[[int], int]


def table_names() -> dict[str, str]:
    return {
        "departments": _("Departments"),
        "categories": _("Categories"),
        "areas": _("Neighbourhoods"),
        "channels": _("Channels"),
        "trend": _("Trend"),
        "legal": _("Legal terms"),
        "registry_points": _("Registry points"),
        "robot": _("Telephone robot"),
        "cases": _("Cases"),
    }


def _hours(seconds: float | None) -> float | None:
    return round(seconds / 3600, 1) if seconds is not None else None


def indicator_columns() -> list[str]:
    return [
        _("Received"),
        _("Resolved"),
        _("Backlog at the end of the period"),
        _("Open now"),
        _("Overdue now"),
        _("Resolved on time (%)"),
        _("First response, median (hours)"),
        _("First response, 90th percentile (hours)"),
        _("Resolution, median (hours)"),
        _("Resolution, 90th percentile (hours)"),
        _("Reopened (%)"),
        _("Forwarded (%)"),
        _("Resolved at first contact (%)"),
        _("Satisfaction (1-5)"),
        _("With a photo (%)"),
        _("With a location (%)"),
    ]


def indicator_values(ind: selectors.Indicators) -> list[Any]:
    return [
        ind.received,
        ind.resolved,
        ind.backlog,
        ind.open_now,
        ind.overdue_now,
        ind.on_time_pct,
        _hours(ind.first_response_median),
        _hours(ind.first_response_p90),
        _hours(ind.resolution_median),
        _hours(ind.resolution_p90),
        ind.reopen_pct,
        ind.forwarded_pct,
        ind.first_contact_pct,
        ind.satisfaction,
        ind.with_photo_pct,
        ind.with_location_pct,
    ]


def _listed(name: str, title: str, header: list[str], rows: list[list[Any]]) -> Table:
    return Table(name, title, header, rows, lambda limit: min(len(rows), limit + 1))


def _legal_columns() -> list[str]:
    return [
        _("Kind"),
        _("Received"),
        _("Closed"),
        _("Answered within the first term"),
        _("Answered within the first term (%)"),
        _("Answered within the extended term"),
        _("Answered within the extended term (%)"),
        _("Extended"),
        _("Extended (%)"),
        _("Forwarded"),
        _("Forwarded within 5 days"),
        _("Forwarded within 5 days (%)"),
        _("Open now"),
        _("Late now"),
    ]


def _legal_rows(figures: dict[str, selectors.LegalFigures]) -> list[list[Any]]:
    names = {
        "petitions": _("Petitions (OG 27/2002)"),
        "info_544": _("Public information requests (Law 544/2001)"),
    }
    return [
        [
            names[key],
            f.received,
            f.closed,
            f.on_time,
            f.on_time_pct,
            f.in_term,
            f.in_term_pct,
            f.extended,
            f.extended_pct,
            f.forwarded,
            f.forwarded_on_time,
            f.forwarded_on_time_pct,
            f.open_now,
            f.late_now,
        ]
        for key, f in figures.items()
    ]


def case_columns() -> list[str]:
    return [
        _("Reference"),
        _("Registered"),
        _("Category"),
        _("Department"),
        _("Neighbourhood"),
        _("Channel"),
        _("Status"),
        _("Due"),
        _("Closed"),
    ]


def _local(value: dt.datetime | None) -> dt.datetime | None:
    """Local wall-clock time without a zone (what a spreadsheet shows)."""
    if value is None:
        return None
    return value.astimezone(m.tz()).replace(tzinfo=None, microsecond=0)


def _case_rows(drill: DrillFilter, language: str) -> Iterator[list[Any]]:
    """The drill-down's cases, read a chunk at a time; names are looked up in Python so
    the query joins nothing but what the filter needs."""
    english = language.startswith("en")

    def names(model) -> dict[int, str]:
        out = {}
        for pk, ro, en in model.objects.values_list("pk", "name_ro", "name_en"):
            out[pk] = (en or ro) if english else ro
        return out

    categories, departments, areas = names(Category), names(Department), names(Area)
    with translation.override(language):
        channels = {c.value: str(c.label) for c in Channel}
        statuses = {s.value: str(s.label) for s in Status}
    qs = selectors.drill_cases(drill).values_list(
        "reference",
        "registered_at",
        "category_id",
        "department_id",
        "area_id",
        "channel",
        "status",
        "due_at",
        "closed_at",
    )
    for ref, registered, cat, dept, area, channel, status, due, closed in qs.iterator(
        chunk_size=CHUNK_SIZE
    ):
        yield [
            ref,
            _local(registered),
            categories.get(cat, ""),
            departments.get(dept, ""),
            areas.get(area, ""),
            channels.get(channel, channel),
            statuses.get(status, status),
            _local(due),
            _local(closed),
        ]


def build(
    name: str,
    period: Period,
    *,
    department: Department | None = None,
    metric: str = "received",
    category_id: int | None = None,
    area_id: int | None = None,
    channel: str = "",
) -> Table:
    """The table ``name`` over ``period`` (one department's when given); ValidationError
    for an unknown table or drill-down figure."""
    if name not in TABLES:
        raise ValidationError(_("There is no table “%(name)s”.") % {"name": name[:40]})
    title = _("%(table)s, %(period)s") % {"table": table_names()[name], "period": period}
    if department is not None and name not in CITY_TABLES:
        title = f"{title} — {department.name}"
    if name in _BREAKDOWN_OF:
        by = _BREAKDOWN_OF[name]
        first = {
            "department": _("Department"),
            "category": _("Category"),
            "area": _("Neighbourhood"),
            "channel": _("Channel"),
        }[by]
        rows = [
            [r.label, *indicator_values(r.indicators)]
            for r in selectors.breakdown(period, by, department=department)
        ]
        return _listed(name, title, [first, *indicator_columns()], rows)
    if name == "trend":
        header = [_("From"), _("To"), _("Received"), _("Resolved"), _("Backlog")]
        rows = [
            [p.start, p.end, p.received, p.resolved, p.backlog]
            for p in selectors.trend(period, department=department)
        ]
        return _listed(name, title, header, rows)
    if name == "legal":
        rows = _legal_rows(selectors.legal(period, department=department))
        return _listed(name, title, _legal_columns(), rows)
    if name == "registry_points":
        header = [_("Registry point"), _("Incoming"), _("Outgoing"), _("Internal")]
        rows = [
            [p.label, p.incoming, p.outgoing, p.internal] for p in selectors.registry_points(period)
        ]
        return _listed(name, title, header, rows)
    if name == "robot":
        r = selectors.robot(period)
        header = [
            _("Calls"),
            _("Caller identified"),
            _("Caller identified (%)"),
            _("Served by the robot"),
            _("Served by the robot (%)"),
            _("Transferred to an operator"),
            _("Transferred to an operator (%)"),
            _("Hung up"),
        ]
        row = [
            r.calls,
            r.identified,
            r.identified_pct,
            r.self_served,
            r.self_served_pct,
            r.transferred,
            r.transferred_pct,
            r.hangups,
        ]
        return _listed(name, title, header, [row])
    # The drill-down: validated now (an unknown figure is the caller's 400), read later.
    drill = DrillFilter(
        metric=metric,
        period=period,
        department=department,
        category_id=category_id,
        area_id=area_id,
        channel=channel,
    )
    qs = selectors.drill_cases(drill)
    language = translation.get_language() or "ro"
    return Table(
        name,
        title,
        case_columns(),
        _case_rows(drill, language),
        lambda limit: qs.order_by()[: limit + 1].count(),
    )


def filename(name: str, period: Period, fmt: str) -> str:
    return f"cetatea-{name}-{period.start:%Y-%m-%d}-{period.end:%Y-%m-%d}.{fmt}"


# --------------------------------------------------------------------------- writers


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def csv_chunks(table: Table, *, rows_per_chunk: int = 500) -> Iterator[bytes]:
    """The CSV in UTF-8 with a byte-order mark (so Excel reads ș ț ă â î), in pieces of
    a few hundred rows: the title line, the header, the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow([table.title])
    writer.writerow(table.header)
    pending = 0
    for row in table.rows:
        writer.writerow([_cell(v) for v in row])
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode()


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def write_xlsx(table: Table, out: IO[bytes]) -> None:
    """The workbook (one sheet: the title, the header, the rows) written into ``out``.
    ``constant_memory`` flushes each row to a temporary file as soon as it is written."""
    workbook = xlsxwriter.Workbook(
        out,
        {"constant_memory": True, "in_memory": False, "strings_to_numbers": False},
    )
    sheet_name = _SHEET_FORBIDDEN.sub(" ", table_names()[table.name])[:31]
    sheet = workbook.add_worksheet(sheet_name)
    bold = workbook.add_format({"bold": True})
    wrap = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_string(0, 0, table.title, bold)
    for col, label in enumerate(table.header):
        sheet.write_string(1, col, label, wrap)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, max(len(table.header) - 1, 1), 14)
    row_index = HEADER_ROWS
    for row in table.rows:
        for col, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                sheet.write_datetime(row_index, col, value, moment)
            elif isinstance(value, dt.date):
                sheet.write_datetime(row_index, col, dt.datetime.combine(value, dt.time()), day)
            elif isinstance(value, int | float):
                sheet.write_number(row_index, col, value)
            else:
                sheet.write_string(row_index, col, str(value))
        row_index += 1
    sheet.freeze_panes(HEADER_ROWS, 0)
    workbook.close()
