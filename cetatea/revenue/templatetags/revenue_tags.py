"""Money as people read it: ``1.234,50 lei`` in Romanian, ``1,234.50 lei`` in English."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def lei(value: Decimal | int | None) -> str:
    """An amount in lei with two decimals, grouped in the active language's style."""
    if value is None:
        return "—"
    amount = number_format(Decimal(value), decimal_pos=2, use_l10n=True, force_grouping=True)
    return _("%(amount)s lei") % {"amount": amount}


@register.filter
def plus(value: Decimal | None, other: Decimal | None) -> Decimal:
    """``value + other`` without the ``add`` filter's rounding to whole numbers."""
    return Decimal(value or 0) + Decimal(other or 0)
