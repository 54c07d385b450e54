from django import forms
from django.utils.translation import gettext_lazy as _

from cetatea.cases.choices import Channel
from cetatea.intake.selectors import intake_categories
from cetatea.portal.forms import MultiplePhotoField


class IntakeForm(forms.Form):
    """The operator's form. Each part is optional to the form; the service decides what
    filing or attaching needs, and says so on the field."""

    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[(Channel.PHONE, Channel.PHONE.label), (Channel.COUNTER, Channel.COUNTER.label)],
        widget=forms.RadioSelect,
        initial=Channel.PHONE,
    )
    call = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    q = forms.CharField(
        label=_("Find the caller: name, phone, e-mail or CNP"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    # "", a person id, or "new" (record the caller with the fields below).
    person = forms.CharField(required=False, max_length=20)
    new_last_name = forms.CharField(
        label=_("Last name / organisation name"), max_length=200, required=False
    )
    new_first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    new_national_id = forms.CharField(
        label=_("CNP or CUI"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    new_phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    new_email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"type": "email", "autocomplete": "off"}),
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    latitude = forms.FloatField(widget=forms.HiddenInput, required=False)
    longitude = forms.FloatField(widget=forms.HiddenInput, required=False)
    address_text = forms.CharField(label=_("Street or place"), max_length=300, required=False)
    title = forms.CharField(label=_("Title (optional)"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Description: what the caller asks or reports, or what they were told"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=10_000,
    )
    reference = forms.CharField(
        label=_("Case reference the caller gives"), max_length=40, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = intake_categories()


class FieldUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), required=False)
    note = forms.CharField(
        label=_("Note (what was done)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
    )
    photos = MultiplePhotoField(label=_("“After” photos"), required=False)

    def __init__(self, *args, statuses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("— keep the status —"))] + list(statuses)
