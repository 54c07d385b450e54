"""The filters of the management overview (all read from the query string)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cetatea.cases.choices import Channel
from cetatea.catalog.models import Area, Category
from cetatea.insights import selectors

COMPARE_CHOICES = [
    ("", _("No comparison")),
    ("previous", _("Previous period")),
    ("year", _("Same period last year")),
]
METRIC_CHOICES = [
    ("received", _("Received")),
    ("resolved", _("Resolved")),
    ("resolved_late", _("Resolved late")),
    ("reopened", _("Reopened")),
    ("open", _("Open now")),
    ("overdue", _("Overdue now")),
    ("forwarded", _("Forwarded")),
]


class DateInput(forms.DateInput):
    input_type = "date"


class PeriodForm(forms.Form):
    """A period (start and end, both included) and what to compare it with."""

    start = forms.CharField(label=_("From"), required=False, widget=DateInput)
    end = forms.CharField(label=_("To"), required=False, widget=DateInput)
    compare = forms.ChoiceField(label=_("Compare with"), choices=COMPARE_CHOICES, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default = selectors.default_period()
        self.fields["start"].widget.attrs["placeholder"] = default.start.isoformat()
        self.fields["end"].widget.attrs["placeholder"] = default.end.isoformat()

    def clean(self):
        data = super().clean()
        try:
            data["period"] = selectors.parse_period(data.get("start"), data.get("end"))
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        return data

    @property
    def period(self) -> selectors.Period:
        return self.cleaned_data["period"]

    @property
    def compared(self) -> selectors.Period | None:
        compare = self.cleaned_data.get("compare")
        if compare == "previous":
            return self.period.previous()
        if compare == "year":
            return self.period.year_before()
        return None


class MonthForm(forms.Form):
    """The month of a department's PDF report."""

    month = forms.CharField(label=_("Month"), widget=forms.DateInput(attrs={"type": "month"}))

    def clean_month(self) -> dt.date:
        raw = self.cleaned_data["month"].strip()
        try:
            return dt.date.fromisoformat(raw + "-01")
        except ValueError:
            raise ValidationError(
                _("“%(value)s” is not a month (YYYY-MM).") % {"value": raw[:20]}
            ) from None


class DrillForm(PeriodForm):
    """Which cases stand behind a figure: the figure, the period and the filters."""

    metric = forms.ChoiceField(label=_("Figure"), choices=METRIC_CHOICES, required=False)
    department = forms.CharField(label=_("Department code"), required=False, max_length=100)
    category = forms.IntegerField(label=_("Category number"), required=False, min_value=1)
    area = forms.IntegerField(label=_("Area number"), required=False, min_value=1)
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("All channels")), *Channel.choices], required=False
    )
    page = forms.IntegerField(
        label=_("Page"), required=False, min_value=1, max_value=10_000, widget=forms.HiddenInput
    )

    def clean_metric(self) -> str:
        return self.cleaned_data.get("metric") or "received"

    def clean_department(self):
        code = (self.cleaned_data.get("department") or "").strip()
        if not code:
            return None
        return selectors.department_by_code(code)

    def clean_category(self):
        pk = self.cleaned_data.get("category")
        if pk and not Category.objects.filter(pk=pk).exists():
            raise ValidationError(_("There is no category with this number."))
        return pk

    def clean_area(self):
        pk = self.cleaned_data.get("area")
        if pk and not Area.objects.filter(pk=pk).exists():
            raise ValidationError(_("There is no area with this number."))
        return pk

    def drill_filter(self) -> selectors.DrillFilter:
        data = self.cleaned_data
        return selectors.DrillFilter(
            metric=data["metric"],
            # "Open" and "overdue" are counted now, whatever the period.
            period=None if data["metric"] in ("open", "overdue") else self.period,
            department=data["department"],
            category_id=data.get("category"),
            area_id=data.get("area"),
            channel=data.get("channel") or "",
        )
