from django import forms
from django.utils.translation import gettext_lazy as _

from cetatea.people.choices import PersonKind


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


class PersonForm(forms.Form):
    """A new person at the counter or on the phone; validation happens in person_create."""

    kind = forms.ChoiceField(label=_("Kind"), choices=PersonKind.choices, initial="individual")
    last_name = forms.CharField(label=_("Last name / organisation name"), max_length=200)
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    national_id = forms.CharField(
        label=_("CNP or CUI"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"type": "email", "autocomplete": "off"}),
    )
    street = forms.CharField(label=_("Street"), max_length=200, required=False)
    number = forms.CharField(label=_("Number"), max_length=20, required=False)
    details = forms.CharField(label=_("Building, entrance, flat"), max_length=100, required=False)
    locality = forms.CharField(label=_("Locality"), max_length=100, initial="Alba Iulia")
