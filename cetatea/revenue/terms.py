"""The instalments of a year's tax, from the fiscal year's terms (data, not code)."""

from __future__ import annotations

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
