"""The instalments of a year's tax, from the fiscal year's terms (data, not code)."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cetatea.revenue.choices import BONUS_TAX_TYPES, TaxType
from cetatea.revenue.models import FiscalYear

CENT = Decimal("0.01")
LEU = Decimal("1")


def round_leu(amount: Decimal) -> Decimal:
    """Round to the whole leu as local-budget amounts are (HG 1/2016: under 50 bani down,
    from 50 bani up), kept with two decimals."""
    return amount.quantize(LEU, rounding=ROUND_HALF_UP).quantize(CENT)


def fiscal_year_terms(year: int, cache: dict[int, FiscalYear | None] | None = None) -> FiscalYear:
    """The terms of ``year``; a ValidationError when the year is not configured."""
    if cache is not None and year in cache:
        terms = cache[year]
    else:
        terms = FiscalYear.objects.filter(year=year).first()
        if cache is not None:
            cache[year] = terms
    if terms is None:
        raise ValidationError(
            _("No payment terms are configured for the fiscal year %(year)s.") % {"year": year},
            code="no_fiscal_year",
        )
    return terms


def default_instalments(
    *, tax_type: str, amount: Decimal, terms: FiscalYear
) -> list[tuple[int, dt.date, Decimal]]:
    """``(seq, due date, amount)`` of a year's tax paid in the default way.

    Building, land and vehicle taxes are paid in two equal instalments by the year's two
    terms (Fiscal Code art. 462(1), 467(1), 472(1)), or whole by the first term when the
    year's tax is at most the year's ``small_tax_limit`` (art. 462(3): 50 lei); an odd
    ban goes to the first instalment. The display tax is also paid in two instalments;
    every other tax is due whole by the first term unless the revenue system's file says
    otherwise. The due dates are the legal ones: the balance moves a date that falls on
    a non-working day to the next working day (CPF art. 75).
    """
    amount = Decimal(amount).quantize(CENT)
    split = tax_type in BONUS_TAX_TYPES or tax_type == TaxType.ADVERTISING
    if not split or amount <= terms.small_tax_limit:
        return [(1, terms.first_due, amount)]
    second = (amount / 2).quantize(CENT, rounding="ROUND_DOWN")
    return [(1, terms.first_due, amount - second), (2, terms.second_due, second)]


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later (the month's last day when the month
    is shorter: 31 January + 1 month = 28 or 29 February)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def late_months(due: dt.date, paid_on: dt.date) -> int:
    """Months or parts of a month of delay (CPF art. 183(2)) for a debt whose term was
    ``due`` (already moved to a working day) and which is extinguished on ``paid_on``:
    counted from the day after the term to the day of payment inclusive, each month
    started counting whole (research §4.4). Due 31 March: paid by 31 March -> 0, paid
    1-30 April -> 1, paid 1 May -> 2."""
    start = due + dt.timedelta(days=1)
    if paid_on < start:
        return 0
    whole = (paid_on.year - start.year) * 12 + paid_on.month - start.month
    if add_months(start, whole) > paid_on:
        whole -= 1
    return whole + 1
