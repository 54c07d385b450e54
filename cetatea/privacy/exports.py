"""The data subject's export as JSON (streamed) and PDF (drawn line by line), and the
audit log as CSV. What goes in them is ``selectors.person_data``; this module only
writes it out.

The JSON is written a row at a time, so a person with 10,000 cases is never held in
memory; the PDF is drawn on a reportlab canvas line by line into a temporary file that
spills to disk past a few megabytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas as pdfcanvas

from cetatea.core.models import AuditLog
from cetatea.people.models import Person
from cetatea.privacy.selectors import SCHEMA, SCHEMA_VERSION, Section
from cetatea.registry import pdf as registry_pdf

# --- JSON ----------------------------------------------------------------------------------


def person_json(person: Person, sections: list[Section]) -> Iterator[str]:
    """The export as JSON text, in pieces: a header, then each section's rows."""
    header = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generated_at": timezone.localtime().isoformat(),
        "person_id": person.pk,
    }
    yield json.dumps(header, ensure_ascii=False)[:-1]  # left open: the sections follow
    for section in sections:
        yield f", {json.dumps(section.key)}: ["
        first = True
        for row in section.rows:
            yield ("" if first else ", ") + json.dumps(row, ensure_ascii=False, default=str)
            first = False
        yield "]"
    yield "}\n"


# --- PDF -----------------------------------------------------------------------------------

PAGE_W, PAGE_H = A4
MARGIN = 18 * mm
WIDTH = PAGE_W - 2 * MARGIN
SIZE = 9
LEADING = 11.5


class _Writer:
    """Lines of text on A4 pages; a new page when the current one is full."""

    def __init__(self, out: IO[bytes], title: str):
        registry_pdf.fonts()
        self.canv = pdfcanvas.Canvas(out, pagesize=A4, pageCompression=1, lang="ro")
        self.canv.setTitle(title)
        self.title = title
        self.page = 0
        self._new_page()

    def _new_page(self) -> None:
        if self.page:
            self.canv.showPage()
        self.page += 1
        self.canv.setFont(registry_pdf.FONT, 7)
        self.canv.setFillColor(registry_pdf.GREY)
        self.canv.drawString(MARGIN, MARGIN / 2, f"{self.title} · {self.page}")
        self.canv.setFillColorRGB(0, 0, 0)
        self.font: tuple[str, float] | None = None  # a new page starts with no font set
        self.y = PAGE_H - MARGIN

    def line(self, text: str, *, bold: bool = False, size: float = SIZE, indent: float = 0) -> None:
        font = registry_pdf.FONT_BOLD if bold else registry_pdf.FONT
        width = WIDTH - indent
        # Most lines fit: measuring once is much cheaper than splitting into words.
        if "\n" not in text and pdfmetrics.stringWidth(text, font, size) <= width:
            parts = [text]
        else:
            parts = simpleSplit(text, font, size, width) or [""]
        for part in parts:
            if self.y < MARGIN + LEADING:
                self._new_page()
            if self.font != (font, size):
                self.canv.setFont(font, size)
                self.font = (font, size)
            self.canv.drawString(MARGIN + indent, self.y, part)
            self.y -= size * 1.3

    def gap(self, points: float = 6) -> None:
        self.y -= points

    def finish(self) -> None:
        self.canv.save()


def _text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def _row_lines(writer: _Writer, row: dict, indent: float = 0) -> None:
    for key, value in row.items():
        if value is None or value == "" or value == [] or value == {}:
            continue  # the JSON has every field; the PDF, read by a person, only the filled
        if isinstance(value, list) and value and isinstance(value[0], dict):
            writer.line(f"{key}:", indent=indent, bold=True)
            for item in value:
                _row_lines(writer, item, indent + 10 * mm)
                writer.gap(2)
        elif isinstance(value, dict | list):
            writer.line(
                f"{key}: {json.dumps(value, ensure_ascii=False, default=str)}", indent=indent
            )
        else:
            writer.line(f"{key}: {_text(value)}", indent=indent)


def person_pdf(person: Person, sections: list[Section]) -> IO[bytes]:
    """The export as a PDF in a temporary file, rewound (the caller closes it)."""
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115  (returned open)
    title = _("Personal data of record #%(id)d") % {"id": person.pk}
    writer = _Writer(out, title)
    writer.line(title, bold=True, size=14)
    writer.line(
        _("Generated on %(when)s. Everything the city's CRM holds about this person.")
        % {"when": timezone.localtime().strftime("%d.%m.%Y %H:%M")}
    )
    writer.gap(8)
    for section in sections:
        writer.line(str(section.title), bold=True, size=12)
        writer.gap(2)
        empty = True
        for row in section.rows:
            empty = False
            _row_lines(writer, row)
            writer.gap(4)
        if empty:
            writer.line(_("None."))
        writer.gap(8)
    writer.finish()
    out.seek(0)
    return out


# --- the audit log as CSV ------------------------------------------------------------------


class _Echo:
    def write(self, value: str) -> str:
        return value


AUDIT_COLUMNS = ["time", "staff_member", "action", "person_id", "object", "reason", "ip_address"]


def audit_csv(rows: Iterable[AuditLog]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(AUDIT_COLUMNS)
    for row in rows:
        actor = row.actor.get_username() if row.actor_id else ""
        yield writer.writerow(
            [
                timezone.localtime(row.created_at).isoformat(),
                actor,
                row.action,
                row.person_id or "",
                _safe(row.object_repr),
                _safe(row.reason),
                row.ip_address or "",
            ]
        )


def _safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_filename(person: Person, ext: str) -> str:
    return f"person-{person.pk}-{dt.date.today():%Y%m%d}.{ext}"
