"""Forms of the clerk's registry pages: register a document, act on an entry, search.

Forms check the shape of the input (a number written as ``RG-12/2026``, a phone number,
a date range); the services decide the rest (a future date, a missing linked entry, a
second extension) and their errors are put back on these fields by the views.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cetatea.catalog.models import Category, Department
from cetatea.core.identifiers import normalize_phone
from cetatea.registry.choices import (
    Direction,
    EntryStatus,
    RegistryChannel,
    SenderKind,
)
from cetatea.registry.models import DocumentType, NomenclatorItem, RegistryPoint
from cetatea.registry.services import MAX_SUMMARY, parse_number


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several scans in one input; each is checked by content in the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class NumberField(forms.CharField):
    """A registry number as printed: ``RG-12/2026``."""

    def clean(self, value):
        value = super().clean(value)
        if value and parse_number(value) is None:
            raise ValidationError(
                _("Write the number as it is printed, for example RG-12/2026."), code="number"
            )
        return value


LINK_CHOICES = [
    ("", _("Not linked")),
    ("answers", _("It answers the entry")),
    ("joined_to", _("It is joined to the entry (same matter)")),
]


class RegisterForm(forms.Form):
    """The register form (fields of art. 9 of the 1996 archive instructions)."""

    submit_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    point = forms.ModelChoiceField(
        label=_("Registry point"), queryset=RegistryPoint.objects.none(), empty_label=None
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=Direction.choices,
        initial=Direction.INCOMING,
        widget=forms.RadioSelect,
    )
    doc_type = forms.ModelChoiceField(
        label=_("Document type"),
        queryset=DocumentType.objects.filter(is_active=True),
        empty_label=_("— choose —"),
    )
    channel = forms.ChoiceField(
        label=_("Received through"), choices=RegistryChannel.choices, initial="counter"
    )
    sender_kind = forms.ChoiceField(
        label=_("Sender type"),
        choices=SenderKind.choices,
        initial=SenderKind.PERSON,
        widget=forms.RadioSelect,
    )
    q = forms.CharField(
        label=_("Find the sender: name, phone, e-mail or CNP"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    # "" (the sender written below), a person id, or "new" (record them as a person).
    person = forms.CharField(required=False, max_length=20)
    new_last_name = forms.CharField(
        label=_("Last name (or the organisation's name)"), max_length=200, required=False
    )
    new_first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    new_national_id = forms.CharField(
        label=_("CNP (or CUI for a company)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    sender_name = forms.CharField(
        label=_("Sender (name as written on the document)"),
        max_length=200,
        required=False,
        help_text=_("Filled in from the person chosen above when left empty."),
    )
    sender_address = forms.CharField(label=_("Sender's address"), max_length=300, required=False)
    sender_email = forms.EmailField(label=_("Sender's e-mail"), required=False)
    sender_phone = forms.CharField(
        label=_("Sender's phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    sender_reference = forms.CharField(
        label=_("Sender's own number"), max_length=60, required=False
    )
    sender_date = forms.DateField(label=_("Sender's date"), required=False, widget=DateInput)
    pages = forms.IntegerField(label=_("Pages"), min_value=1, max_value=10000, initial=1)
    annexes = forms.IntegerField(label=_("Annexes"), min_value=0, max_value=10000, initial=0)
    summary = forms.CharField(
        label=_("Summary of the content"),
        max_length=MAX_SUMMARY,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    department = forms.ModelChoiceField(
        label=_("Assigned to department"),
        queryset=Department.objects.filter(is_active=True).order_by("name_ro"),
        required=False,
        empty_label=_("The registry point's department"),
    )
    archive_item = forms.ModelChoiceField(
        label=_("Archive file (nomenclator)"),
        queryset=NomenclatorItem.objects.filter(is_active=True),
        required=False,
        empty_label=_("— none —"),
    )
    addressee = forms.CharField(
        label=_("Addressee (outgoing documents)"), max_length=300, required=False
    )
    link_kind = forms.ChoiceField(label=_("Link"), choices=LINK_CHOICES, required=False)
    link_number = NumberField(
        label=_("Linked registry number"),
        max_length=40,
        required=False,
        help_text=_("As printed, for example RG-12/2026."),
    )
    case_category = forms.ModelChoiceField(
        label=_("Category of the case (petitions)"),
        queryset=Category.objects.filter(is_active=True).order_by("sort_order", "name_ro"),
        required=False,
        empty_label=_("The document type's category"),
    )
    files = MultipleFileField(
        label=_("Scans or files"),
        required=False,
        help_text=_("PDF, JPEG or PNG, at most 20 MB each."),
    )

    def __init__(self, *args, points=None, **kwargs):
        super().__init__(*args, **kwargs)
        if points is not None:
            self.fields["point"].queryset = points

    def clean_sender_phone(self):
        value = self.cleaned_data["sender_phone"].strip()
        return normalize_phone(value) if value else ""

    def clean_person(self):
        value = self.cleaned_data["person"].strip()
        if value not in ("", "new") and not value.isdigit():
            raise ValidationError(_("Choose the sender from the list."), code="person")
        return value

    def clean(self):
        data = super().clean()
        if data.get("link_number") and not data.get("link_kind"):
            self.add_error("link_kind", _("Say how the document is linked to that number."))
        if data.get("link_kind") and not data.get("link_number"):
            self.add_error("link_number", _("Write the linked registry number."))
        if data.get("person") == "new" and not (data.get("new_last_name") or "").strip():
            self.add_error("new_last_name", _("Write the name of the new person."))
        return data


class VersionedForm(forms.Form):
    """An action on an entry, made on the version of it the clerk saw."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class AnswerForm(VersionedForm):
    prefix = "answer"

    submit_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    summary = forms.CharField(
        label=_("What the answer says (summary)"),
        max_length=MAX_SUMMARY,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    channel = forms.ChoiceField(
        label=_("Sent by"), choices=RegistryChannel.choices, initial=RegistryChannel.POST
    )
    addressee = forms.CharField(
        label=_("Addressee"),
        max_length=300,
        required=False,
        help_text=_("Empty: the sender of the entry."),
    )
    pages = forms.IntegerField(label=_("Pages"), min_value=1, max_value=10000, initial=1)


class ExtendForm(VersionedForm):
    prefix = "extend"

    days = forms.IntegerField(label=_("Extend by (days)"), min_value=1, max_value=365)
    reason = forms.CharField(
        label=_("Reason (sent to the sender with the notice)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ForwardForm(VersionedForm):
    prefix = "forward"

    to = forms.CharField(label=_("Competent authority"), max_length=300)
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RefuseForm(VersionedForm):
    prefix = "refuse"

    reason = forms.CharField(
        label=_("Reasons of the refusal"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class FileForm(VersionedForm):
    prefix = "file"

    reason = forms.CharField(
        label=_("Why it is filed without action"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AttachForm(VersionedForm):
    prefix = "attach"

    file = forms.FileField(
        label=_("Scan or file"),
        help_text=_("PDF, JPEG or PNG, at most 20 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )


STATUS_FILTER = [("", _("Any status"))] + EntryStatus.choices
DIRECTION_FILTER = [("", _("Any direction"))] + Direction.choices


class SearchForm(forms.Form):
    """The register search. Which points and departments are offered depends on what
    the user may read (``selectors.RegistryScope``)."""

    number = forms.CharField(label=_("Number"), max_length=40, required=False)
    sender = forms.CharField(label=_("Sender"), max_length=200, required=False)
    text = forms.CharField(label=_("Words of the summary"), max_length=200, required=False)
    date_from = forms.DateField(label=_("Registered from"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("Registered until"), required=False, widget=DateInput)
    point = forms.ModelChoiceField(
        label=_("Registry point"),
        queryset=RegistryPoint.objects.all(),
        required=False,
        empty_label=_("All points"),
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.order_by("name_ro"),
        required=False,
        empty_label=_("All departments"),
    )
    doc_type = forms.ModelChoiceField(
        label=_("Document type"),
        queryset=DocumentType.objects.all(),
        required=False,
        empty_label=_("All types"),
    )
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_FILTER, required=False)
    direction = forms.ChoiceField(label=_("Direction"), choices=DIRECTION_FILTER, required=False)
    cursor = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        if scope.everything:
            return
        point = self.fields["point"]
        point.queryset = RegistryPoint.objects.filter(pk__in=scope.point_ids)
        if scope.department_id is not None:
            point.empty_label = _("Any point (my department's entries)")
        else:
            point.empty_label = None
        if not scope.point_ids:
            department = self.fields["department"]
            department.queryset = Department.objects.filter(pk=scope.department_id)
            department.empty_label = None

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period is before its start."))
        return data


class DeadlinesForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.filter(is_active=True).order_by("name_ro"),
        required=False,
        empty_label=_("All departments I may see"),
    )
