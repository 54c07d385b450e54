"""A department's monthly report as a PDF: the month's indicators beside the previous
month and the same month a year before, the month by category and by channel, the legal
terms, what is overdue now, and a bar chart of cases received and resolved per day.

Every figure is read through the selectors (the same numbers as the overview's pages);
the pages are laid out with reportlab and the registry's embedded DejaVu Sans
(``cetatea.registry.pdf.fonts``), so Romanian letters print.
"""

from __future__ import annotations

import datetime as dt
import io
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cetatea.catalog.models import Department
from cetatea.insights import selectors
from cetatea.insights.selectors import Indicators, Period
from cetatea.registry.pdf import FONT, FONT_BOLD, GREY, RULE, fonts

RECEIVED_COLOUR = colors.HexColor("#1f5f8b")
RESOLVED_COLOUR = colors.HexColor("#e08a00")


def month_start(year: int, month: int) -> dt.date:
    """The first day of the month; ValidationError for month 13 or a month to come."""
    if not 1 <= month <= 12 or year < 1900:
        raise ValidationError(
            _("There is no month %(year)04d-%(month)02d.") % {"year": year, "month": month}
        )
    first = dt.date(year, month, 1)
    if first > selectors.today():
        raise ValidationError(
            _("The month %(year)04d-%(month)02d has not begun yet.")
            % {"year": year, "month": month}
        )
    return first


def month_period(first: dt.date) -> Period:
    """The whole month (up to today for the month under way)."""
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return Period(first, min(following - dt.timedelta(days=1), selectors.today()))


def _whole_month(first: dt.date) -> Period:
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return Period(first, following - dt.timedelta(days=1))


def previous_month(first: dt.date) -> dt.date:
    return (first - dt.timedelta(days=1)).replace(day=1)


def month_label(first: dt.date) -> str:
    return f"{MONTHS[first.month]} {first.year}"


def filename(department: Department, first: dt.date) -> str:
    return f"cetatea-{department.code}-{first:%Y-%m}.pdf"


def _num(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return formats.number_format(value, 1, force_grouping=True)
    return formats.number_format(value, force_grouping=True)


def _hours(seconds: float | None) -> str:
    return _num(round(seconds / 3600, 1)) if seconds is not None else "–"


def _pct(value: float | None) -> str:
    return f"{_num(value)} %" if value is not None else "–"


def kpi_rows(ind: Indicators) -> list[tuple[str, str]]:
    """(label, value) of the month's indicators, in the order the report prints them."""
    return [
        (_("Received"), _num(ind.received)),
        (_("Resolved"), _num(ind.resolved)),
        (_("Backlog at the end of the period"), _num(ind.backlog)),
        (_("Resolved on time"), _pct(ind.on_time_pct)),
        (_("First response, median (hours)"), _hours(ind.first_response_median)),
        (_("Resolution, median (hours)"), _hours(ind.resolution_median)),
        (_("Resolution, 90th percentile (hours)"), _hours(ind.resolution_p90)),
        (_("Reopened"), _pct(ind.reopen_pct)),
        (_("Forwarded"), _pct(ind.forwarded_pct)),
        (_("Resolved at first contact"), _pct(ind.first_contact_pct)),
        (_("Satisfaction (1-5)"), _num(ind.satisfaction)),
        (_("With a photo"), _pct(ind.with_photo_pct)),
        (_("With a location"), _pct(ind.with_location_pct)),
    ]


def _style(name: str, size: float = 9, bold: bool = False, **kw) -> ParagraphStyle:
    return ParagraphStyle(
        name, fontName=FONT_BOLD if bold else FONT, fontSize=size, leading=size * 1.25, **kw
    )


def _table(header: list[str], rows: list[list[str]], widths: list[float]) -> Table:
    head = _style("head", 8, bold=True)
    cell = _style("cell", 8.5)
    data = [[Paragraph(escape(h), head) for h in header]]
    for row in rows:
        data.append([Paragraph(escape(row[0]), cell), *row[1:]])
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 8.5),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ]
        )
    )
    return table


def _section(title: str, body) -> KeepTogether:
    return KeepTogether([Paragraph(escape(title), _style("section", 11, bold=True)), body])


def _chart(points: list[selectors.TrendPoint], width: float) -> Drawing:
    """Received and resolved per day, side by side, with a legend (colour and name)."""
    height = 55 * mm
    drawing = Drawing(width, height + 12 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y = 10 * mm, 12 * mm
    chart.width, chart.height = width - 14 * mm, height - 10 * mm
    chart.data = [[p.received for p in points] or [0], [p.resolved for p in points] or [0]]
    chart.categoryAxis.categoryNames = [str(p.start.day) for p in points] or [""]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    top = max([*chart.data[0], *chart.data[1], 1])
    chart.valueAxis.valueMax = top
    chart.valueAxis.valueStep = max(1, -(-top // 5))
    chart.bars[0].fillColor = RECEIVED_COLOUR
    chart.bars[1].fillColor = RESOLVED_COLOUR
    chart.bars[0].strokeColor = chart.bars[1].strokeColor = None
    chart.barSpacing = 0.5
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = 10 * mm, height + 10 * mm
    legend.fontName = FONT
    legend.fontSize = 8
    legend.columnMaximum = 1
    legend.deltax = 40 * mm
    legend.alignment = "right"
    legend.colorNamePairs = [(RECEIVED_COLOUR, _("Received")), (RESOLVED_COLOUR, _("Resolved"))]
    drawing.add(legend)
    return drawing


def department_month_pdf(department: Department, first: dt.date) -> bytes:
    """The report of ``department`` for the month starting on ``first``."""
    fonts()
    period = month_period(first)
    before = _whole_month(previous_month(first))
    year_before = _whole_month(first.replace(year=first.year - 1))
    now = selectors.indicators(period, department=department)
    figures = [
        now,
        selectors.indicators(before, department=department),
        selectors.indicators(year_before, department=department),
    ]
    month = month_label(first)
    title = _("Monthly report: %(department)s, %(month)s") % {
        "department": department.name,
        "month": month,
    }
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=settings.CETATEA_INSTITUTION_NAME,
        lang="ro",
    )

    def footer(canv, _doc):
        canv.saveState()
        canv.setFont(FONT, 8)
        canv.setFillColor(GREY)
        canv.drawRightString(
            A4[0] - 15 * mm, 10 * mm, _("Page %(n)d") % {"n": canv.getPageNumber()}
        )
        canv.restoreState()

    refreshed = selectors.refreshed_at()
    lines = [
        _("Period: %(period)s") % {"period": period},
        _("Figures as of: %(when)s")
        % {
            "when": formats.date_format(timezone.localtime(refreshed), "SHORT_DATETIME_FORMAT")
            if refreshed
            else _("never (the figures have not been computed yet)")
        },
    ]
    story: list = [
        Paragraph(escape(settings.CETATEA_INSTITUTION_NAME), _style("inst", 11, bold=True)),
        Spacer(1, 3 * mm),
        Paragraph(escape(title), _style("title", 14, bold=True)),
        Spacer(1, 2 * mm),
        *[Paragraph(escape(line), _style("line", 9)) for line in lines],
        Spacer(1, 3 * mm),
        Paragraph(
            escape(
                _("Open now: %(open)s, of which overdue now: %(overdue)s.")
                % {"open": _num(now.open_now), "overdue": _num(now.overdue_now)}
            ),
            _style("overdue", 10, bold=True),
        ),
        Spacer(1, 4 * mm),
    ]
    width = doc.width
    columns = [kpi_rows(ind) for ind in figures]
    rows = [
        [label, value, columns[1][i][1], columns[2][i][1]]
        for i, (label, value) in enumerate(columns[0])
    ]
    story.append(
        _section(
            _("Indicators"),
            _table(
                [_("Indicator"), month, month_label(before.start), month_label(year_before.start)],
                rows,
                [width - 90 * mm, 30 * mm, 30 * mm, 30 * mm],
            ),
        )
    )
    story.append(Spacer(1, 5 * mm))
    story.append(
        _section(
            _("Received and resolved per day"),
            _chart(selectors.trend(period, department=department), width),
        )
    )
    for by, heading, name in (
        ("category", _("By category"), _("Category")),
        ("channel", _("By channel"), _("Channel")),
    ):
        breakdown = selectors.breakdown(period, by, department=department)
        rows = [
            [
                r.label,
                _num(r.indicators.received),
                _num(r.indicators.resolved),
                _pct(r.indicators.on_time_pct),
                _num(r.indicators.overdue_now),
            ]
            for r in breakdown
        ] or [[_("No cases."), "", "", "", ""]]
        story += [
            Spacer(1, 5 * mm),
            _section(
                heading,
                _table(
                    [name, _("Received"), _("Resolved"), _("On time"), _("Overdue now")],
                    rows,
                    [width - 100 * mm, 25 * mm, 25 * mm, 25 * mm, 25 * mm],
                ),
            ),
        ]
    legal = selectors.legal(period, department=department)
    names = {
        "petitions": _("Petitions (OG 27/2002)"),
        "info_544": _("Public information requests (Law 544/2001)"),
    }
    rows = [
        [
            names[key],
            _num(f.received),
            _num(f.closed),
            _pct(f.on_time_pct),
            _pct(f.in_term_pct),
            _num(f.open_now),
            _num(f.late_now),
        ]
        for key, f in legal.items()
    ]
    story += [
        Spacer(1, 5 * mm),
        _section(
            _("Legal terms"),
            _table(
                [
                    _("Kind"),
                    _("Received"),
                    _("Answered"),
                    _("In the first term"),
                    _("In the extended term"),
                    _("Open now"),
                    _("Late now"),
                ],
                rows,
                [width - 120 * mm, 20 * mm, 20 * mm, 20 * mm, 20 * mm, 20 * mm, 20 * mm],
            ),
        ),
    ]
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
