"""The tax statement ("Situație fiscală") as a PDF, laid out with reportlab.

What it says is the same as the screens (``selectors.statement``): the taxpayer, the day
the balance was computed for, the totals, the bonus offer, one line per instalment, late
charge and fine still of interest, the notes, and a footer saying the revenue office's
records prevail. The fonts (DejaVu, for ș ț ă â î) come from the registry's PDF module.
The statement is in the reader's language (the active one), amounts formatted likewise.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cetatea.registry.pdf import FONT, FONT_BOLD, GREY, RULE, fonts
from cetatea.revenue.balance import Balance
from cetatea.revenue.selectors import statement
from cetatea.revenue.templatetags.revenue_tags import lei

SHADE = colors.HexColor("#eeeeee")


def _style(size: float = 9, bold: bool = False, **kw) -> ParagraphStyle:
    return ParagraphStyle(
        "s", fontName=FONT_BOLD if bold else FONT, fontSize=size, leading=size * 1.25, **kw
    )


def _p(text: str, size: float = 9, bold: bool = False, **kw) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), _style(size, bold, **kw))


def _num(text: str, bold: bool = False) -> Paragraph:
    return _p(text, 8.5, bold, alignment=2)


def _day(value) -> str:
    return value.strftime("%d.%m.%Y") if value else "—"


def _grid(rows: list[list], widths: list[float], header: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    table.setStyle(TableStyle(style))
    return table


def _facts(balance: Balance) -> list[list]:
    account = balance.account
    masked = account.person.national_id_masked or "—"
    rows = [
        (_("Taxpayer"), account.name),
        (_("CNP/CUI"), masked),
        (_("Taxpayer account"), account.external_id),
    ]
    if account.address:
        rows.append((_("Fiscal address"), account.address))
    rows.append((_("Balance computed for"), _day(balance.today)))
    return [
        [_p(label, 8, textColor=GREY), _p(value, 10, bold=i == 0)]
        for i, (label, value) in enumerate(rows)
    ]


def _totals(balance: Balance) -> list[list]:
    rows = [
        (_("Overdue taxes"), lei(balance.overdue_principal), False),
        (_("Late-payment charges"), lei(balance.late_charges), False),
        (_("Fines"), lei(balance.fines_due), False),
        (_("Total due today"), lei(balance.due_today), True),
        (_("Not due yet"), lei(balance.upcoming), False),
        (_("Total, including what is not due yet"), lei(balance.total), True),
    ]
    if balance.next_due_date:
        rows.append(
            (
                _("Next due date"),
                _("%(amount)s by %(date)s")
                % {"amount": lei(balance.next_due_amount), "date": _day(balance.next_due_date)},
                False,
            )
        )
    if balance.credit:
        rows.append((_("Paid in advance (credit)"), lei(balance.credit), False))
    return [[_p(label, 9, bold), _num(value, bold)] for label, value, bold in rows]


def _tax_rows(obligations: list) -> tuple[list[list], list]:
    rows = [
        [
            _p(_("Tax"), 8, True),
            _p(_("Instalment"), 8, True),
            _p(_("Due date"), 8, True),
            _num(_("Amount"), True),
            _num(_("Paid"), True),
            _num(_("Outstanding"), True),
        ]
    ]
    commands = []
    for ob in obligations:
        o = ob.obligation
        title = f"{o.get_tax_type_display()} {o.fiscal_year}"
        if o.subject:
            title += f"\n{o.subject}"
        first = len(rows)
        for inst in ob.instalments:
            due = _day(inst.due_date)
            if inst.overdue:
                due += " " + _("(overdue)")
            rows.append(
                [
                    _p(title, 8) if len(rows) == first else "",
                    _p(str(inst.seq), 8),
                    _p(due, 8),
                    _num(lei(inst.amount)),
                    _num(lei(inst.paid)),
                    _num(lei(inst.outstanding)),
                ]
            )
        if ob.late_charges or ob.late_charges_paid:
            commands.append(("SPAN", (1, len(rows)), (2, len(rows))))
            rows.append(
                [
                    _p(title, 8) if len(rows) == first else "",
                    _p(_("Late-payment charges"), 8),
                    "",
                    _num(lei(ob.late_charges + ob.late_charges_paid)),
                    _num(lei(ob.late_charges_paid)),
                    _num(lei(ob.late_charges)),
                ]
            )
        if ob.bonus_granted:
            commands.append(("SPAN", (1, len(rows)), (2, len(rows))))
            rows.append(
                [
                    _p(title, 8) if len(rows) == first else "",
                    _p(_("Early-payment bonus granted"), 8),
                    "",
                    _num(lei(ob.bonus_granted)),
                    "",
                    "",
                ]
            )
        if len(rows) - first > 1:
            commands.append(("SPAN", (0, first), (0, len(rows) - 1)))
    return rows, commands


def _fine_rows(fines: list) -> list[list]:
    rows = [
        [
            _p(_("Offence record"), 8, True),
            _p(_("Issued by"), 8, True),
            _num(_("Fine"), True),
            _num(_("Paid"), True),
            _num(_("Outstanding"), True),
        ]
    ]
    for fb in fines:
        f = fb.fine
        record = " ".join(x for x in (f.series, f.number) if x)
        record += "\n" + _day(f.issued_on)
        if f.status == "contested":
            record += "\n" + f.get_status_display()
        issuer = f.issuer
        if fb.half_amount is not None and fb.half_until:
            issuer += "\n" + _("Half of the legal minimum, %(amount)s, if paid by %(date)s") % {
                "amount": lei(fb.half_amount),
                "date": _day(fb.half_until),
            }
        rows.append(
            [
                _p(record, 8),
                _p(issuer, 8),
                _num(lei(f.amount)),
                _num(lei(fb.paid)),
                _num(lei(fb.outstanding)),
            ]
        )
    return rows


def statement_pdf(balance: Balance) -> bytes:
    """An A4 statement (more pages if the lines need them), numbered at the foot."""
    fonts()
    content = statement(balance)
    institution = settings.CETATEA_INSTITUTION_NAME
    title = _("Tax statement")
    issued = timezone.localtime()
    prevail = _("For information. The records of the revenue office prevail over this statement.")
    issued_text = _("Issued on %(date)s") % {"date": date_format(issued, "d.m.Y H:i")}
    page_label = _("Page %(n)d")

    def footer(canv, doc):
        canv.saveState()
        canv.setFont(FONT, 7)
        canv.setFillColor(GREY)
        canv.drawString(18 * mm, 13 * mm, prevail)
        canv.drawString(18 * mm, 9 * mm, issued_text)
        canv.drawRightString(A4[0] - 18 * mm, 9 * mm, page_label % {"n": canv.getPageNumber()})
        canv.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=f"{title} {balance.account.external_id}",
        author=institution,
        lang=get_language() or "ro",
    )
    width = doc.width
    story: list = [
        _p(institution, 11, True),
        Spacer(1, 3 * mm),
        _p(title, 15, True),
        Spacer(1, 3 * mm),
        _grid(_facts(balance), [45 * mm, width - 45 * mm], header=False),
        Spacer(1, 5 * mm),
        KeepTogether(
            [
                _p(_("What is owed"), 11, True),
                Spacer(1, 1 * mm),
                _grid(_totals(balance), [width - 50 * mm, 50 * mm], header=False),
            ]
        ),
    ]
    if balance.with_bonus_total is not None and balance.bonus_until:
        story += [
            Spacer(1, 3 * mm),
            _p(
                _(
                    "Early-payment bonus: paying %(amount)s by %(date)s settles this year's "
                    "building, land and vehicle taxes with a saving of %(saving)s."
                )
                % {
                    "amount": lei(balance.with_bonus_total),
                    "date": _day(balance.bonus_until),
                    "saving": lei(balance.bonus_saving),
                },
                9,
                True,
            ),
        ]
    story += [Spacer(1, 5 * mm), _p(_("Taxes"), 11, True), Spacer(1, 1 * mm)]
    if content.obligations:
        rows, spans = _tax_rows(content.obligations)
        money = 28 * mm
        table = _grid(rows, [width - 48 * mm - 3 * money, 24 * mm, 24 * mm, money, money, money])
        table.setStyle(TableStyle(spans))
        story.append(table)
    else:
        story.append(_p(_("No tax is owed or due this year.")))
    if content.settled_obligations:
        story.append(
            _p(
                ngettext(
                    "One tax of an earlier year is paid in full and not listed.",
                    "%(n)s taxes of earlier years are paid in full and not listed.",
                    content.settled_obligations,
                )
                % {"n": content.settled_obligations},
                8,
                textColor=GREY,
            )
        )
    story += [Spacer(1, 5 * mm), _p(_("Fines"), 11, True), Spacer(1, 1 * mm)]
    if content.fines:
        story.append(
            _grid(
                _fine_rows(content.fines),
                [32 * mm, width - 32 * mm - 3 * 28 * mm, 28 * mm, 28 * mm, 28 * mm],
            )
        )
    else:
        story.append(_p(_("No fine is owed.")))
    story += [Spacer(1, 5 * mm), _p(_("Notes"), 10, True)]
    story += [_p("• " + note, 8) for note in content.notes]
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
