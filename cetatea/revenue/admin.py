"""Admin: the dated configuration is edited here; the imported data is only looked at.

Accounts, obligations, fines and payments come from the revenue system (``import_revenue``)
and are corrected there, never here: an edit in Cetatea would be undone by the next
import and would make the balance disagree with the city's books. Their lists search by
exact id (the tables hold millions of rows) and do not count the whole table.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from cetatea.core.admin import ReadOnlyAdmin
from cetatea.revenue.choices import BONUS_TAX_TYPES, TaxType
from cetatea.revenue.models import (
    BonusRate,
    Fine,
    FiscalYear,
    ImportRun,
    Instalment,
    LateChargeRate,
    Obligation,
    Payment,
    TaxpayerAccount,
)

# --- dated configuration ---------------------------------------------------------------------


@admin.register(LateChargeRate)
class LateChargeRateAdmin(admin.ModelAdmin):
    list_display = ["valid_from", "percent_per_month", "legal_basis"]


@admin.register(FiscalYear)
class FiscalYearAdmin(admin.ModelAdmin):
    list_display = ["year", "first_due", "second_due", "small_tax_limit", "decision"]


class BonusRateForm(forms.ModelForm):
    class Meta:
        model = BonusRate
        fields = ["year", "tax_type", "taxpayer_kind", "percent", "decision"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The bonus exists for building, land and vehicle taxes only (Fiscal Code art.
        # 462(2), 467(2), 472(2)).
        self.fields["tax_type"].choices = [
            (value, label) for value, label in TaxType.choices if value in BONUS_TAX_TYPES
        ]


@admin.register(BonusRate)
class BonusRateAdmin(admin.ModelAdmin):
    form = BonusRateForm
    list_display = ["year", "tax_type", "taxpayer_kind", "percent", "decision"]
    list_filter = ["year", "taxpayer_kind", "tax_type"]


# --- imported data, read only ------------------------------------------------------------------


class _ImportedAdmin(ReadOnlyAdmin):
    show_full_result_count = False
    list_per_page = 50


@admin.register(TaxpayerAccount)
class TaxpayerAccountAdmin(_ImportedAdmin):
    list_display = ["external_id", "name", "kind", "person", "updated_at"]
    list_select_related = ["person"]
    search_fields = ["=external_id"]
    fields = ["external_id", "name", "kind", "person", "address", "created_at", "updated_at"]
    ordering = ["-id"]


class InstalmentInline(admin.TabularInline):
    model = Instalment
    fields = ["seq", "due_date", "amount"]
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Obligation)
class ObligationAdmin(_ImportedAdmin):
    list_display = ["external_id", "account", "tax_type", "fiscal_year", "subject", "amount"]
    list_select_related = ["account"]
    search_fields = ["=external_id", "=account__external_id"]
    fields = ["external_id", "account", "tax_type", "fiscal_year", "subject", "amount"]
    inlines = [InstalmentInline]
    ordering = ["-id"]


@admin.register(Fine)
class FineAdmin(_ImportedAdmin):
    list_display = ["external_id", "series", "number", "account", "issued_on", "amount", "status"]
    list_select_related = ["account"]
    list_filter = ["status"]
    search_fields = ["=external_id", "=number", "=unique_code", "=account__external_id"]
    fields = [
        "external_id",
        "account",
        ("series", "number"),
        "unique_code",
        "issued_on",
        "communicated_on",
        "issuer",
        "legal_basis",
        "amount",
        "half_minimum",
        "enforceable_since",
        "status",
    ]
    ordering = ["-id"]


@admin.register(Payment)
class PaymentAdmin(_ImportedAdmin):
    list_display = ["external_id", "account", "paid_on", "amount", "method", "receipt"]
    list_select_related = ["account"]
    search_fields = ["=external_id", "=receipt", "=account__external_id"]
    fields = [
        "external_id",
        "account",
        "paid_on",
        "amount",
        "method",
        "receipt",
        "obligation",
        "fine",
    ]
    ordering = ["-id"]


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "kind",
        "file_name",
        "dry_run",
        "status",
        "rows",
        "created",
        "updated",
        "unchanged",
        "rejected",
    ]
    list_filter = ["kind", "status", "dry_run"]
