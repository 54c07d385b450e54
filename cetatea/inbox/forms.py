"""Forms of the inbound e-mail log."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cetatea.inbox.choices import Outcome


class MessageLogForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", _("Every outcome"))] + Outcome.choices, required=False
    )
    cursor = forms.CharField(max_length=100, required=False, widget=forms.HiddenInput)
