"""Building the registry's PDFs with reportlab: the citizen's receipt, the printed
register and the legal reports. This module only lays pages out; what goes on them is
decided in ``documents.py`` (and the figures in ``reports.py``).

Romanian needs ș ț ă â î, which the PDF base fonts lack: DejaVu Sans is embedded from
``CETATEA_PDF_FONT_DIR`` (Debian's fonts-dejavu-core; ``scripts/pdf-deps.sh``).

The register is drawn row by row on the canvas instead of with a platypus table, so a
register of 20,000 rows never holds more than one row and the page being drawn in memory
besides the PDF itself; the header is repeated on every page and each page says "page n
of N" (N is a form filled in when the last page is done).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

import segno
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, A5, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

# Compressed streams stay binary: the ASCII85 wrapping reportlab adds by default only
# makes files a quarter bigger and costs a tenth of a long register's time (pure Python).
rl_config.useA85 = 0

FONT = "CetateaSans"
FONT_BOLD = "CetateaSans-Bold"
GREY = colors.HexColor("#555555")
RULE = colors.HexColor("#999999")

# Bilingual text: (Romanian, English). The same text twice is printed once.
Bi = tuple[str, str]


@lru_cache(maxsize=1)
def _register_fonts(folder: str) -> None:
    path = Path(folder)
    missing = [n for n in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf") if not (path / n).is_file()]
    if missing:
        raise ImproperlyConfigured(
            f"The PDF font {', '.join(missing)} is not in {folder}: install Debian's "
            "fonts-dejavu-core (scripts/pdf-deps.sh) or set CETATEA_PDF_FONT_DIR to a folder "
            "that has DejaVuSans.ttf and DejaVuSans-Bold.ttf."
        )
    pdfmetrics.registerFont(TTFont(FONT, str(path / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(path / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)


def fonts() -> None:
    """Register the Unicode fonts (once per folder); ImproperlyConfigured if missing."""
    _register_fonts(str(settings.CETATEA_PDF_FONT_DIR))


def qr_png(data: str, scale: int = 6) -> bytes:
    """A QR code (error correction M) as a PNG, with the quiet zone scanners need."""
    out = io.BytesIO()
    segno.make(data, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def _style(name: str, size: float = 10, bold: bool = False, **kw) -> ParagraphStyle:
    return ParagraphStyle(
        name,
        fontName=FONT_BOLD if bold else FONT,
        fontSize=size,
        leading=size * 1.25,
        **kw,
    )


def _bi(text: Bi, size: float = 10, bold: bool = False) -> list[Paragraph]:
    """The Romanian text, and the English one under it, smaller and grey."""
    ro, en = text
    out = [Paragraph(escape(ro), _style("ro", size, bold))]
    if en and en != ro:
        out.append(Paragraph(escape(en), _style("en", size * 0.8, textColor=GREY)))
    return out


# --- The receipt -------------------------------------------------------------------------


@dataclass
class ReceiptContent:
    """What the receipt says; every label is bilingual, values are printed as given."""

    institution: str
    point: str
    title: Bi
    fields: list[tuple[Bi, str]]
    strong: tuple[int, ...] = ()  # indexes of fields printed in bold (number, code)
    check_intro: Bi = ("", "")
    status_url: str = ""
    qr_data: str = ""
    notes: list[Bi] = field(default_factory=list)
    pdf_title: str = ""


def receipt_pdf(content: ReceiptContent) -> bytes:
    """An A5 page: the institution, the registration facts as a two-column table, and
    how to check the status online (address, code, QR code)."""
    fonts()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A5,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=10 * mm,
        bottomMargin=10 * mm,
        title=content.pdf_title,
        author=content.institution,
        lang="ro",
    )
    story: list = [
        Paragraph(escape(content.institution), _style("inst", 13, bold=True)),
        Paragraph(escape(content.point), _style("point", 10)),
        Spacer(1, 4 * mm),
        *_bi(content.title, 12, bold=True),
        Spacer(1, 3 * mm),
    ]
    rows = [
        [
            _bi(label, 8),
            Paragraph(
                escape(value).replace("\n", "<br/>"),
                _style("v", 11 if i in content.strong else 10, bold=i in content.strong),
            ),
        ]
        for i, (label, value) in enumerate(content.fields)
    ]
    table = Table(rows, colWidths=[40 * mm, doc.width - 40 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    story += [table, Spacer(1, 4 * mm)]
    qr = Image(io.BytesIO(qr_png(content.qr_data)), width=32 * mm, height=32 * mm)
    check = [
        *_bi(content.check_intro, 9),
        Spacer(1, 2 * mm),
        Paragraph(escape(content.status_url), _style("url", 8)),
    ]
    for note in content.notes:
        check += [Spacer(1, 2 * mm), *_bi(note, 8)]
    box = Table([[qr, check]], colWidths=[36 * mm, doc.width - 36 * mm])
    box.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (0, 0), (-1, -1), 0.5, RULE),
                ("LEFTPADDING", (0, 0), (0, 0), 1),
            ]
        )
    )
    story.append(box)
    doc.build(story)
    return out.getvalue()


# --- Reports -----------------------------------------------------------------------------


@dataclass
class ReportLayout:
    """A report as printed: titles, then sections of (label, value, indent) rows."""

    institution: str
    title: str
    lines: list[str]  # period, scope, "as of"
    sections: list[tuple[str, list[tuple[str, str, int]]]]
    header: tuple[str, str]
    page_label: str  # "Page %(n)d"


def report_pdf(layout: ReportLayout) -> bytes:
    """An A4 page (or more) per report: one table per section, the page number below."""
    fonts()
    out = io.BytesIO()

    def footer(canv, doc):
        canv.saveState()
        canv.setFont(FONT, 8)
        canv.setFillColor(GREY)
        canv.drawRightString(
            A4[0] - 15 * mm, 10 * mm, layout.page_label % {"n": canv.getPageNumber()}
        )
        canv.restoreState()

    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=layout.title,
        author=layout.institution,
        lang="ro",
    )
    story: list = [
        Paragraph(escape(layout.institution), _style("inst", 11, bold=True)),
        Spacer(1, 3 * mm),
        Paragraph(escape(layout.title), _style("title", 14, bold=True)),
        Spacer(1, 2 * mm),
    ]
    story += [Paragraph(escape(line), _style("line", 9)) for line in layout.lines]
    label_style = _style("label", 9)
    for title, rows in layout.sections:
        heading = Paragraph(escape(title), _style("section", 11, bold=True))
        data = [
            [
                Paragraph(escape(layout.header[0]), _style("h", 8, bold=True)),
                Paragraph(escape(layout.header[1]), _style("h", 8, bold=True, alignment=2)),
            ]
        ]
        for label, value, indent in rows:
            style = ParagraphStyle("l", parent=label_style, leftIndent=indent * 5 * mm)
            data.append([Paragraph(escape(label), style), value])
        table = Table(data, colWidths=[doc.width - 30 * mm, 30 * mm], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), FONT, 9),
                    ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ]
            )
        )
        # A section's title never ends a page alone (a long table still splits).
        story += [Spacer(1, 5 * mm), KeepTogether([heading, table])]
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


# --- The printed register ----------------------------------------------------------------


@dataclass
class RegisterLayout:
    institution: str
    title: str
    subtitle: str
    columns: Sequence[str]
    widths: Sequence[float]  # relative; scaled to the page
    page_label: str  # "Page %(n)d of" (the total follows)
    empty_text: str


FONT_SIZE = 6.5
LEADING = 8.0
PAD = 2.0
MAX_LINES = 14  # a cell longer than this is cut with "…" (the entry page has it whole)


def register_pdf(layout: RegisterLayout, rows: Iterable[Sequence[str]]) -> bytes:
    """Landscape A4 pages with the register's columns; ``rows`` is consumed lazily."""
    fonts()
    out = io.BytesIO()
    page_w, page_h = landscape(A4)
    margin = 10 * mm
    usable = page_w - 2 * margin
    scale = usable / sum(layout.widths)
    widths = [w * scale for w in layout.widths]
    xs = [margin]
    for w in widths:
        xs.append(xs[-1] + w)
    bottom = 14 * mm
    canv = pdfcanvas.Canvas(out, pagesize=(page_w, page_h), pageCompression=1, lang="ro")
    canv.setTitle(layout.title)
    canv.setAuthor(layout.institution)

    seen: dict[tuple[str, float, str], list[str]] = {}  # dates, departments repeat

    def wrap(text: str, width: float, font: str = FONT) -> list[str]:
        key = (text, width, font)
        if key in seen:
            return seen[key]
        room = width - 2 * PAD
        if "\n" not in text and pdfmetrics.stringWidth(text, font, FONT_SIZE) <= room:
            lines = [text]
        else:
            lines = []
            for part in text.splitlines() or [""]:
                lines += simpleSplit(part, font, FONT_SIZE, room) or [""]
            if len(lines) > MAX_LINES:
                lines = lines[:MAX_LINES]
                lines[-1] = lines[-1][: max(0, len(lines[-1]) - 2)] + " …"
        if len(text) <= 80 and len(seen) < 5000:
            seen[key] = lines
        return lines

    header_cells = [wrap(c, w, FONT_BOLD) for c, w in zip(layout.columns, widths, strict=True)]
    header_h = max(len(c) for c in header_cells) * LEADING + 2 * PAD

    def draw_row(y: float, cells: list[list[str]], font: str) -> None:
        # One text object per row, positioned with a literal "Tm": reportlab's own
        # setTextOrigin formats six numbers through its pure-Python fp_str, which was
        # most of the time of a 20,000-row register. The column rules are drawn once
        # per page (``close_table``), each row only adds the rule under it.
        text = canv.beginText()
        text.setFont(font, FONT_SIZE, LEADING)
        code = text._code
        for x, lines in zip(xs, cells, strict=False):
            if any(lines):
                code.append(f"1 0 0 1 {x + PAD:.2f} {y - PAD - FONT_SIZE:.2f} Tm")
                for line in lines:
                    text.textLine(line)
        canv.drawText(text)

    def rule(y: float) -> None:
        canv.line(margin, y, margin + usable, y)

    def close_table(top: float, y: float) -> None:
        grid = canv.beginPath()
        grid.rect(margin, y, usable, top - y)
        for x in xs[1:-1]:
            grid.moveTo(x, top)
            grid.lineTo(x, y)
        canv.drawPath(grid, stroke=1, fill=0)

    def start_page() -> tuple[float, float]:
        canv.setFont(FONT_BOLD, 10)
        canv.drawString(margin, page_h - margin - 4, layout.institution)
        canv.setFont(FONT_BOLD, 12)
        canv.drawString(margin, page_h - margin - 18, layout.title)
        canv.setFont(FONT, 8)
        canv.drawString(margin, page_h - margin - 30, layout.subtitle)
        canv.setLineWidth(0.3)
        canv.setStrokeColor(RULE)
        top = page_h - margin - 38
        canv.setFillColor(colors.HexColor("#eeeeee"))
        canv.rect(margin, top - header_h, usable, header_h, stroke=0, fill=1)
        canv.setFillColor(colors.black)
        draw_row(top, header_cells, FONT_BOLD)
        rule(top - header_h)
        return top, top - header_h

    def end_page(top: float, y: float) -> None:
        close_table(top, y)
        canv.setFont(FONT, 7)
        canv.setFillColor(GREY)
        label = layout.page_label % {"n": canv.getPageNumber()} + " "
        x = page_w - margin - 20
        canv.drawRightString(x, 7 * mm, label)
        canv.saveState()
        canv.translate(x, 7 * mm)
        canv.doForm("pages_total")
        canv.restoreState()
        canv.setFillColor(colors.black)
        canv.showPage()

    top, y = start_page()
    count = 0
    for row in rows:
        cells = [wrap(str(v), w) for v, w in zip(row, widths, strict=True)]
        height = max(len(c) for c in cells) * LEADING + 2 * PAD
        if y - height < bottom:
            end_page(top, y)
            top, y = start_page()
        draw_row(y, cells, FONT)
        y -= height
        rule(y)
        count += 1
    if not count:
        canv.setFont(FONT, 9)
        canv.drawString(margin, y - 14, layout.empty_text)
    pages = canv.getPageNumber()
    end_page(top, y)
    canv.beginForm("pages_total")
    canv.setFont(FONT, 7)
    canv.setFillColor(GREY)
    canv.drawString(0, 0, str(pages))
    canv.endForm()
    canv.save()
    return out.getvalue()
