"""What citizens owe the city: taxpayer accounts, tax obligations, fines and payments.

The city's revenue system is the source of truth; these rows are imported from it
(``import_revenue``), each keyed by the revenue system's own id (``external_id``) with
a hash of the row's content (``content_hash``) so that importing a file twice changes
nothing. Nothing here stores a balance: ``balance.account_balance`` computes what is
owed to the day from the obligations, fines and payments and the dated rates below.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cetatea.revenue.choices import (
    FineStatus,
    ImportKind,
    PaymentMethod,
    TaxpayerKind,
    TaxType,
)

MONEY = {"max_digits": 14, "decimal_places": 2}


class TaxpayerAccount(models.Model):
    """A taxpayer's account in the revenue system ("rol fiscal"), linked to a Person."""

    external_id = models.CharField(_("taxpayer account number"), max_length=40, unique=True)
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="taxpayer_accounts",
    )
    kind = models.CharField(
        _("taxpayer kind"), max_length=12, choices=TaxpayerKind.choices, default="individual"
    )
    # core.crypto.lookup_hash of the CNP/CUI: how the import files find the account.
    national_id_hash = models.CharField(max_length=64, editable=False)
    name = models.CharField(_("name in the revenue system"), max_length=300)
    address = models.CharField(_("fiscal address"), max_length=300, blank=True)
    content_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("taxpayer account")
        verbose_name_plural = _("taxpayer accounts")
        permissions = [
            ("view_balance", _("Can see what a taxpayer owes")),
            ("import_revenue", _("Can import data from the revenue system")),
        ]
        indexes = [models.Index(fields=["national_id_hash"], name="taxpayer_nid_hash_idx")]

    def __str__(self) -> str:
        return f"{self.external_id} {self.name}"


class Obligation(models.Model):
    """One tax for one fiscal year (a building, a plot, a vehicle, a fee...)."""

    account = models.ForeignKey(
        TaxpayerAccount, on_delete=models.PROTECT, related_name="obligations"
    )
    external_id = models.CharField(_("revenue system id"), max_length=60, unique=True)
    tax_type = models.CharField(_("tax"), max_length=16, choices=TaxType.choices)
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"))
    # What is taxed: the building's address, the plot, the vehicle's number plate.
    subject = models.CharField(_("taxed asset"), max_length=200, blank=True)
    amount = models.DecimalField(_("amount for the year"), **MONEY)
    # A decision of the revenue office (a cancelled accessory, a corrected tax).
    content_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("tax obligation")
        verbose_name_plural = _("tax obligations")
        indexes = [
            models.Index(fields=["account", "fiscal_year"], name="obligation_account_year_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="obligation_amount_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_tax_type_display()} {self.fiscal_year} {self.subject}".strip()


class Instalment(models.Model):
    """Part of an obligation with its due date (31 March / 30 September by default)."""

    obligation = models.ForeignKey(Obligation, on_delete=models.CASCADE, related_name="instalments")
    seq = models.PositiveSmallIntegerField(_("instalment"))
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["obligation_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["obligation", "seq"], name="instalment_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.obligation_id}/{self.seq} {self.due_date} {self.amount}"


class Fine(models.Model):
    """A contravention fine recorded by the local revenue office (OG 2/2001)."""

    account = models.ForeignKey(TaxpayerAccount, on_delete=models.PROTECT, related_name="fines")
    external_id = models.CharField(_("revenue system id"), max_length=60, unique=True)
    series = models.CharField(_("offence record series"), max_length=20, blank=True)
    number = models.CharField(_("offence record number"), max_length=30)
    # The 23-character series of Law 203/2018, where the issuer uses it.
    unique_code = models.CharField(_("unique code"), max_length=23, blank=True)
    issued_on = models.DateField(_("date of the offence record"))
    # Handed over or communicated: the 15 days for paying half start the next day.
    communicated_on = models.DateField(_("communicated on"), null=True, blank=True)
    issuer = models.CharField(_("issued by"), max_length=200)
    legal_basis = models.CharField(_("legal basis"), max_length=200, blank=True)
    amount = models.DecimalField(_("fine"), **MONEY)
    # Half of the legal minimum, when the law allows paying it within 15 days.
    half_minimum = models.DecimalField(
        _("half of the legal minimum"), null=True, blank=True, **MONEY
    )
    # Since when the offence record is an enforceable title (not contested in time, or
    # the court's decision is final): such fines are paid first (CPF art. 165(2)).
    enforceable_since = models.DateField(_("enforceable since"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=FineStatus.choices, default=FineStatus.UNPAID
    )
    content_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("fine")
        verbose_name_plural = _("fines")
        indexes = [models.Index(fields=["account", "issued_on"], name="fine_account_issued_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="fine_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(half_minimum__isnull=True) | models.Q(half_minimum__gte=0),
                name="fine_half_minimum_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.number}".strip()


class Payment(models.Model):
    """Money received. Where it goes is worked out by the balance in the legal order."""

    account = models.ForeignKey(TaxpayerAccount, on_delete=models.PROTECT, related_name="payments")
    external_id = models.CharField(_("revenue system id"), max_length=60, unique=True)
    paid_on = models.DateField(_("paid on"))
    amount = models.DecimalField(_("amount"), **MONEY)
    method = models.CharField(
        _("paid at"), max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.CASH
    )
    receipt = models.CharField(_("receipt number"), max_length=60, blank=True)
    # What the payer said they paid (the law may apply the money elsewhere first).
    obligation = models.ForeignKey(
        Obligation,
        verbose_name=_("for the obligation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    fine = models.ForeignKey(
        Fine,
        verbose_name=_("for the fine"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    content_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        indexes = [models.Index(fields=["account", "paid_on"], name="payment_account_paid_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.paid_on} {self.amount}"


# --- dated configuration: no rate, percentage or term is written in the code ------------


class FiscalYear(models.Model):
    """A fiscal year's terms, set by the local council's tax decision (HCL)."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    first_due = models.DateField(_("first instalment due"))
    second_due = models.DateField(_("second instalment due"))
    # An annual building, land or vehicle tax up to this amount is due whole by the first
    # term (Fiscal Code art. 462(3), 467(3), 472(3): 50 lei).
    small_tax_limit = models.DecimalField(_("paid whole up to"), **MONEY)
    decision = models.CharField(_("council decision"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("fiscal year")
        verbose_name_plural = _("fiscal years")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class BonusRate(models.Model):
    """The early-payment bonus for a tax, a year and a kind of taxpayer (HCL)."""

    year = models.PositiveSmallIntegerField(_("year"))
    tax_type = models.CharField(_("tax"), max_length=16, choices=TaxType.choices)
    taxpayer_kind = models.CharField(
        _("taxpayer kind"), max_length=12, choices=TaxpayerKind.choices
    )
    percent = models.DecimalField(_("bonus (%)"), max_digits=5, decimal_places=2)
    decision = models.CharField(_("council decision"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("early-payment bonus")
        verbose_name_plural = _("early-payment bonuses")
        ordering = ["-year", "tax_type", "taxpayer_kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "tax_type", "taxpayer_kind"], name="bonus_rate_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(percent__gte=0) & models.Q(percent__lte=100),
                name="bonus_rate_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.tax_type} {self.taxpayer_kind} {self.percent}%"


class LateChargeRate(models.Model):
    """Late-payment charge per month or part of a month, from a date (CPF art. 183: 1%)."""

    valid_from = models.DateField(_("valid from"), unique=True)
    percent_per_month = models.DecimalField(
        _("charge per month (%)"), max_digits=5, decimal_places=2
    )
    legal_basis = models.CharField(_("legal basis"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("late-payment charge rate")
        verbose_name_plural = _("late-payment charge rates")
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"{self.valid_from} {self.percent_per_month}%"


# --- imports and the citizen's access ------------------------------------------------------


class ImportRun(models.Model):
    """One run of ``import_revenue``: what it read, what it did, where its rejects are."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("file kind"), max_length=12, choices=ImportKind.choices)
    file_name = models.CharField(_("file"), max_length=500)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rows = models.PositiveIntegerField(_("rows read"), default=0)
    created = models.PositiveIntegerField(pgettext_lazy("rows imported", "created"), default=0)
    updated = models.PositiveIntegerField(pgettext_lazy("rows imported", "updated"), default=0)
    unchanged = models.PositiveIntegerField(pgettext_lazy("rows imported", "unchanged"), default=0)
    rejected = models.PositiveIntegerField(pgettext_lazy("rows imported", "rejected"), default=0)
    rejects_file = models.CharField(_("rejects file"), max_length=500, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("revenue import")
        verbose_name_plural = _("revenue imports")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} {self.started_at:%Y-%m-%d %H:%M}"


class PortalTaxLink(models.Model):
    """A citizen's portal login allowed to see a taxpayer account's balance.

    Made when the citizen proved they hold the account: its CNP/CUI together with the
    taxpayer account number printed on their payment notice."""

    citizen = models.ForeignKey(
        "portal.CitizenAccount", on_delete=models.CASCADE, related_name="tax_links"
    )
    account = models.ForeignKey(
        TaxpayerAccount, on_delete=models.CASCADE, related_name="portal_links"
    )
    verified_at = models.DateTimeField(_("verified"), auto_now_add=True)

    class Meta:
        verbose_name = _("portal access to a tax account")
        verbose_name_plural = _("portal access to tax accounts")
        constraints = [
            models.UniqueConstraint(fields=["citizen", "account"], name="portal_tax_link_unique")
        ]

    def __str__(self) -> str:
        return f"{self.citizen_id} -> {self.account_id}"


class PortalTaxAttempt(models.Model):
    """A failed attempt to link a tax account from the portal (for the lockout)."""

    citizen = models.ForeignKey(
        "portal.CitizenAccount", on_delete=models.CASCADE, related_name="tax_attempts"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["citizen", "at"], name="portal_tax_attempt_idx")]

    def __str__(self) -> str:
        return f"{self.citizen_id} {self.at:%Y-%m-%d %H:%M}"
