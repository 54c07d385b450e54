"""Forms of the schedules pages: they check the shape; services decide the rest."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cetatea.intranet.schedules import clock
from cetatea.intranet.schedules.choices import WEEKDAY_CHOICES, LeaveKind


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


class LinkedErrorsForm(forms.Form):
    """A form whose invalid inputs point at their error message (aria-describedby), so
    a screen reader reads the message with the field."""

    def full_clean(self):
        super().full_clean()
        self._link_errors()

    def add_error(self, field, error):
        super().add_error(field, error)
        self._link_errors()

    def _link_errors(self) -> None:
        for name in self._errors or {}:
            if name not in self.fields:
                continue
            auto_id = self.auto_id % name if "%s" in str(self.auto_id) else name
            ids = [f"{auto_id}_error"]
            if self.fields[name].help_text:
                ids.append(f"{auto_id}_helptext")
            self.fields[name].widget.attrs["aria-describedby"] = " ".join(ids)


def _person_label(user) -> str:
    return user.get_full_name() or user.get_username()


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _person_label(obj)


class PersonMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return _person_label(obj)


class ShiftForm(LinkedErrorsForm):
    """A shift on one local day, from a start time to an end time (an end at or before
    the start ends the next day)."""

    post = forms.ModelChoiceField(label=_("Post"), queryset=None, empty_label=None)
    person = PersonChoiceField(
        label=_("Person"), queryset=None, required=False, empty_label=_("Nobody yet (open shift)")
    )
    day = forms.DateField(label=_("Day"), widget=DateInput)
    start_time = forms.TimeField(label=_("Start"), widget=TimeInput)
    end_time = forms.TimeField(
        label=_("End"),
        widget=TimeInput,
        help_text=_("An end at or before the start means the shift ends the next day."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, posts, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["post"].queryset = posts
        self.fields["person"].queryset = people

    def interval(self) -> tuple[dt.datetime, dt.datetime]:
        data = self.cleaned_data
        return clock.window(data["day"], data["start_time"], data["end_time"])


class RangeForm(LinkedErrorsForm):
    first = forms.DateField(label=_("First day"), widget=DateInput)
    last = forms.DateField(label=_("Last day"), widget=DateInput)
    notify = forms.BooleanField(label=_("E-mail each person their shifts"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("first") and data.get("last") and data["last"] < data["first"]:
            raise ValidationError({"last": _("The last day must not be before the first.")})
        return data


class LeaveForm(LinkedErrorsForm):
    start_date = forms.DateField(label=_("First day"), widget=DateInput)
    end_date = forms.DateField(label=_("Last day"), widget=DateInput)
    kind = forms.ChoiceField(label=_("Kind"), choices=LeaveKind.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class DecisionForm(LinkedErrorsForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("refuse", _("Refuse"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        required=False,
        help_text=_("Required when refusing."),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "refuse" and not data.get("reason", "").strip():
            raise ValidationError({"reason": _("Say why it is refused.")})
        return data


class OfferForm(LinkedErrorsForm):
    offered_to = PersonChoiceField(
        label=_("Offer to"), queryset=None, required=False, empty_label=_("Anyone in the team")
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offered_to"].queryset = people


class PostForm(LinkedErrorsForm):
    name_ro = forms.CharField(label=_("Name (Romanian)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200, required=False)
    code = forms.SlugField(
        label=_("Code"), max_length=40, help_text=_("Letters, digits and dashes.")
    )


class CoverageRuleForm(LinkedErrorsForm):
    post = forms.ModelChoiceField(label=_("Post"), queryset=None, empty_label=None)
    weekdays = forms.MultipleChoiceField(
        label=_("Days"),
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=["0", "1", "2", "3", "4"],
    )
    start_time = forms.TimeField(label=_("From"), widget=TimeInput)
    end_time = forms.TimeField(
        label=_("Until"),
        widget=TimeInput,
        help_text=_("An end at or before the start means the window ends the next day."),
    )
    min_staff = forms.IntegerField(label=_("Minimum staff"), min_value=1, max_value=100, initial=1)

    def __init__(self, *args, posts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["post"].queryset = posts


class PatternForm(LinkedErrorsForm):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("For example “Morning”."))
    post = forms.ModelChoiceField(label=_("Post"), queryset=None, empty_label=None)
    weekdays = forms.MultipleChoiceField(
        label=_("Days"),
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=["0", "1", "2", "3", "4"],
    )
    start_time = forms.TimeField(label=_("Start"), widget=TimeInput)
    end_time = forms.TimeField(
        label=_("End"),
        widget=TimeInput,
        help_text=_("An end at or before the start means the shift ends the next day."),
    )
    members = PersonMultipleChoiceField(
        label=_("People"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, posts, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["post"].queryset = posts
        self.fields["members"].queryset = people
