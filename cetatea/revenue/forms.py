"""Forms of the revenue screens: the citizen's "link your tax record"."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy


class TaxLinkForm(forms.Form):
    """Both halves are printed on the payment notice ("înștiințare de plată")."""

    national_id = forms.CharField(
        label=gettext_lazy("CNP or CUI"),
        max_length=20,
        help_text=gettext_lazy(
            "Your personal numeric code (13 digits), or the company's fiscal code."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "numeric"}
        ),
    )
    account_number = forms.CharField(
        label=gettext_lazy("Taxpayer account number"),
        max_length=40,
        help_text=gettext_lazy(
            "The taxpayer account (rol fiscal) number printed on your payment notice."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
