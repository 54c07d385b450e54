from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cetatea.core.models import AuditLog

MAX_RANGE_DAYS = 3660


class AuditFilterForm(forms.Form):
    """The audit log viewer's filters. ``person`` is a record number or a name: a name
    lists the matching persons to choose from."""

    person = forms.CharField(
        label=_("Person (record number or name)"), required=False, max_length=100
    )
    actor = forms.TypedChoiceField(
        label=_("Staff member"), required=False, coerce=int, empty_value=None
    )
    action = forms.ChoiceField(label=_("Action"), required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    cursor = forms.CharField(required=False, widget=forms.HiddenInput, max_length=80)

    def __init__(self, *args, staff_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", _("Everyone"))] + list(staff_choices)
        self.fields["action"].choices = [("", _("Every action"))] + list(AuditLog.Action.choices)

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until:
            if since > until:
                raise forms.ValidationError(_("The start date is after the end date."))
            if (until - since).days > MAX_RANGE_DAYS:
                raise forms.ValidationError(_("Choose a period of at most ten years."))
        return data

    def person_id(self) -> int | None:
        value = (self.cleaned_data.get("person") or "").strip().lstrip("#")
        return int(value) if value.isdigit() else None

    def person_name(self) -> str:
        value = (self.cleaned_data.get("person") or "").strip()
        return "" if value.lstrip("#").isdigit() else value


class ExportForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the data exported (the request's number, for example)"),
        min_length=5,
        max_length=300,
    )


class EraseForm(forms.Form):
    """Step one: the reason; step two: the record number typed again."""

    reason = forms.CharField(
        label=_("Why is the data erased (the request's number and the legal basis)"),
        min_length=10,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.CharField(
        label=_("Type the record number again to confirm"), required=False, max_length=20
    )
