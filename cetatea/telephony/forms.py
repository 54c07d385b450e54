from django import forms
from django.utils.translation import gettext_lazy as _


class CallLogForm(forms.Form):
    mine = forms.BooleanField(label=_("Only calls I answered"), required=False)
    cursor = forms.CharField(max_length=100, required=False, widget=forms.HiddenInput)


_PIN_ATTRS = {"autocomplete": "off", "inputmode": "numeric", "pattern": "[0-9]*"}


class RobotPinIssueForm(forms.Form):
    """Staff issue or reset a phone robot PIN: typed twice, or generated (``generate``)."""

    pin = forms.CharField(
        label=_("New PIN"),
        required=False,
        max_length=12,
        strip=True,
        help_text=_("6 to 12 digits, not one repeated digit. Leave empty to generate one."),
        widget=forms.PasswordInput(attrs=_PIN_ATTRS),
    )
    pin_again = forms.CharField(
        label=_("New PIN again"),
        required=False,
        max_length=12,
        strip=True,
        widget=forms.PasswordInput(attrs=_PIN_ATTRS),
    )
    version = forms.CharField(max_length=64, widget=forms.HiddenInput)
    generate = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("generate"):
            data["pin"] = ""
            return data
        pin, again = data.get("pin"), data.get("pin_again")
        if not pin:
            self.add_error("pin", _("Type the new PIN, or generate one."))
        elif pin != again:
            self.add_error("pin_again", _("The two PINs are not the same."))
        return data


class RobotPinChangeForm(forms.Form):
    """The citizen changes their PIN on the portal."""

    current = forms.CharField(
        label=_("Current PIN"),
        max_length=12,
        widget=forms.PasswordInput(attrs={**_PIN_ATTRS, "autocomplete": "current-password"}),
    )
    pin = forms.CharField(
        label=_("New PIN"),
        max_length=12,
        help_text=_("6 to 12 digits, not one repeated digit."),
        widget=forms.PasswordInput(attrs={**_PIN_ATTRS, "autocomplete": "new-password"}),
    )
    pin_again = forms.CharField(
        label=_("New PIN again"),
        max_length=12,
        widget=forms.PasswordInput(attrs={**_PIN_ATTRS, "autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("pin") and data.get("pin_again") and data["pin"] != data["pin_again"]:
            self.add_error("pin_again", _("The two PINs are not the same."))
        return data


class RobotPeriodForm(forms.Form):
    """The period of the phone robot's figures: local days, both included."""

    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        from cetatea.telephony.robot.selectors import MAX_PERIOD_DAYS

        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end of the period is before its start."))
        elif start and end and (end - start).days >= MAX_PERIOD_DAYS:
            self.add_error(
                "end", _("A period is at most %(days)d days.") % {"days": MAX_PERIOD_DAYS}
            )
        return data
