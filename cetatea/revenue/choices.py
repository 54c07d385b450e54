"""Kinds of what a taxpayer owes and pays."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TaxType(models.TextChoices):
    """Local taxes of the Fiscal Code, art. 454 a)-h)."""

    BUILDING = "building", _("Building tax")
    LAND = "land", _("Land tax")
    VEHICLE = "vehicle", _("Vehicle tax")
    CERTIFICATES = "certificates", _("Fee for certificates, permits and authorisations")
    ADVERTISING = "advertising", _("Advertising and display tax")
    SHOWS = "shows", _("Tax on shows")
    SPECIAL = "special", _("Special tax")
    OTHER = "other", _("Other local tax")


# Taxes with the early-payment bonus (Fiscal Code art. 462(2), 467(2), 472(2)) and the
# "at most 50 lei: paid whole by the first term" rule (art. 462(3), 467(3), 472(3)).
BONUS_TAX_TYPES = frozenset({TaxType.BUILDING, TaxType.LAND, TaxType.VEHICLE})


class TaxpayerKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Natural person")
    COMPANY = "company", _("Legal person")


class FineStatus(models.TextChoices):
    """What the revenue system says of a fine (the balance works out what is owed)."""

    UNPAID = "unpaid", _("Unpaid")
    CONTESTED = "contested", _("Contested in court")
    PAID = "paid", pgettext_lazy("fine status", "Paid")
    CANCELLED = "cancelled", _("Cancelled")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash desk")
    CARD = "card", _("Card at the desk")
    ONLINE = "online", _("Ghișeul.ro / online")
    BANK = "bank", _("Bank transfer")
    OTHER = "other", _("Other")


class ImportKind(models.TextChoices):
    TAXPAYERS = "taxpayers", _("Taxpayers")
    OBLIGATIONS = "obligations", _("Tax obligations")
    FINES = "fines", _("Fines")
    PAYMENTS = "payments", _("Payments")
