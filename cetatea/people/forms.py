from django import forms
from django.utils.translation import gettext_lazy as _


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, phone, e-mail or CNP"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autofocus": True, "autocomplete": "off"}),
    )
    page = forms.IntegerField(min_value=1, required=False)


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need to see the national id?"), max_length=300, required=True
    )


class MergeForm(forms.Form):
    duplicate = forms.IntegerField(
        label=_("Record number of the duplicate"),
        min_value=1,
        help_text=_("The duplicate's history moves to this person; the duplicate is closed."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
