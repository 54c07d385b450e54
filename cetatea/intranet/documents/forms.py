"""Forms of the documents pages; each error is tied to its field (aria-describedby)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cetatea.intranet.documents.choices import Level


class AccessibleForm(forms.Form):
    """Fields with an error point to its message (``<id>_error``, rendered by
    ``intranet/_field.html``) and are marked invalid."""

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            self._mark_invalid(name)

    def add_error(self, field, error):
        super().add_error(field, error)
        # Errors a service raised after validation are tied to their fields the same way.
        for name in list(self.errors):
            self._mark_invalid(name)

    def _mark_invalid(self, name: str) -> None:
        if name not in self.fields:
            return
        bound = self[name]
        ids = [f"{bound.auto_id}_error"]
        if self.fields[name].help_text:
            ids.append(f"{bound.auto_id}_helptext")
        attrs = self.fields[name].widget.attrs
        attrs["aria-describedby"] = " ".join(ids)
        attrs["aria-invalid"] = "true"


class FolderForm(AccessibleForm):
    name = forms.CharField(label=_("Folder name"), max_length=200)
    shared = forms.BooleanField(
        label=_("Shared with all staff"),
        required=False,
        help_text=_("Otherwise only your department's staff see it."),
    )


class RenameFolderForm(AccessibleForm):
    name = forms.CharField(label=_("New name"), max_length=200)


class GrantForm(AccessibleForm):
    GRANTEE = [
        ("department", _("A department")),
        ("user", _("A person")),
        ("everyone", _("All staff")),
    ]
    grantee = forms.ChoiceField(
        label=_("Give access to"), choices=GRANTEE, widget=forms.RadioSelect
    )
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=None, required=False, empty_label=_("(choose)")
    )
    username = forms.CharField(label=_("Person (user name)"), max_length=150, required=False)
    level = forms.TypedChoiceField(label=_("Access"), choices=Level.choices, coerce=int)

    def __init__(self, *args, **kwargs):
        from cetatea.catalog.models import Department

        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(is_active=True)

    def clean(self):
        from django.contrib.auth import get_user_model

        data = super().clean()
        grantee = data.get("grantee")
        if grantee == "department" and not data.get("department"):
            self.add_error("department", _("Choose the department."))
        if grantee == "user":
            name = (data.get("username") or "").strip()
            user = get_user_model().objects.filter(username=name, is_active=True).first()
            if user is None:
                self.add_error("username", _("There is no active account with this user name."))
            data["user"] = user
        return data


class UploadForm(AccessibleForm):
    file = forms.FileField(label=_("File"))
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        required=False,
        help_text=_("Empty: the file's name."),
    )


class VersionUploadForm(AccessibleForm):
    file = forms.FileField(label=_("New version of the file"))
    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class MarkdownNewForm(AccessibleForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(
        label=_("Text (Markdown)"),
        widget=forms.Textarea(attrs={"rows": 20}),
        required=False,
        strip=False,
    )


class MarkdownEditForm(AccessibleForm):
    text = forms.CharField(
        label=_("Text (Markdown)"),
        widget=forms.Textarea(attrs={"rows": 24}),
        required=False,
        strip=False,
        help_text=_("# Heading, **bold**, *italic*, - list item, [link](https://…)."),
    )
    note = forms.CharField(label=_("What changed (optional)"), max_length=200, required=False)
    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class CommentForm(AccessibleForm):
    body = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text=_("Write @user name to notify a colleague who can see this document."),
    )


class LinkForm(AccessibleForm):
    reference = forms.CharField(
        label=_("Case reference or registry number"),
        max_length=40,
        help_text=_("For example AB-2026-000123 or RG-12/2026."),
    )


class RenameDocumentForm(AccessibleForm):
    title = forms.CharField(label=_("New title"), max_length=200)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search documents"), max_length=200, required=False)
