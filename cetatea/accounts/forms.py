from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    """A 6-digit code from the authenticator app, or a recovery code."""

    otp_token = forms.CharField(
        label=_("Code"),
        max_length=40,
        error_messages={"required": _("Type the code.")},
    )

    def clean_otp_token(self) -> str:
        value = "".join(ch for ch in self.cleaned_data["otp_token"] if ch.isalnum())
        if not value:
            raise forms.ValidationError(_("Type the code."))
        return value


class EnrolForm(forms.Form):
    otp_token = forms.CharField(
        label=_("6-digit code from the app"),
        max_length=12,
        error_messages={"required": _("Type the 6-digit code that the app shows.")},
    )

    def clean_otp_token(self) -> str:
        value = "".join(ch for ch in self.cleaned_data["otp_token"] if not ch.isspace())
        if not (value.isdigit() and len(value) == 6):
            raise forms.ValidationError(_("The code has 6 digits."))
        return value


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("Your current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Type your current password.")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("The password is wrong."))
        return password


class AccountSearchForm(forms.Form):
    q = forms.CharField(label=_("User name"), required=False, max_length=150)
    after = forms.CharField(required=False, max_length=150, widget=forms.HiddenInput)


class AdminActionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        error_messages={"required": _("Say why (it goes into the audit log).")},
    )
