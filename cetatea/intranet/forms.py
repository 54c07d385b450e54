"""Forms of the intranet's home, announcements and staff directory."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cetatea.catalog.models import Department
from cetatea.core.roles import ROLE_LABELS
from cetatea.intranet.choices import BodyFormat


def _departments():
    return Department.objects.filter(is_active=True).order_by("name_ro")


class DescribedByMixin:
    """Each field's hint and error are announced with it (aria-describedby)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}_helptext"

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                field = self.fields[name]
                described = field.widget.attrs.get("aria-describedby", "").split()
                if f"id_{name}_error" not in described:
                    described.append(f"id_{name}_error")
                field.widget.attrs["aria-describedby"] = " ".join(described)
                field.widget.attrs["aria-invalid"] = "true"


class AnnouncementForm(DescribedByMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_(
            "Markdown: **bold**, *italics*, lists with “- ”, links as [text](https://…), "
            "headings with “## ”."
        ),
    )
    body_format = forms.ChoiceField(
        label=_("Format"),
        choices=BodyFormat.choices,
        initial=BodyFormat.MARKDOWN,
        widget=forms.RadioSelect,
    )
    department = forms.ModelChoiceField(
        label=_("Who is it for"),
        queryset=_departments(),
        required=False,
        empty_label=_("Everyone (all staff)"),
        help_text=_("A department's announcement is shown only to that department's staff."),
    )
    pinned = forms.BooleanField(
        label=_("Pin it at the top of the list"), required=False, initial=False
    )
    # The publish form's one-time token (double submits) or the edited version.
    submit_token = forms.UUIDField(required=False, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class DirectoryForm(forms.Form):
    q = forms.CharField(
        label=_("Name"),
        required=False,
        max_length=100,
        help_text=_("Diacritics do not matter: “Stefan” finds “Ștefan”."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=_departments(),
        required=False,
        empty_label=_("All departments"),
    )
    role = forms.ChoiceField(label=_("Role"), required=False)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", _("All roles"))] + [
            (code, label) for code, label in ROLE_LABELS.items()
        ]
        self.fields["q"].widget.attrs["aria-describedby"] = "id_q_helptext"
