"""Forms of the intranet's messages (validation of the input; the rules are in services)."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from cetatea.intranet.chat.choices import DELAY_CHOICES, ChannelKind, EmailMode
from cetatea.intranet.chat.services import MAX_BODY


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe); checked by the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class PostForm(forms.Form):
    body = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 3, "aria-describedby": "post-help post-errors"}),
    )
    files = MultipleFileField(label=_("Files"), required=False)
    # One-time key of this form: a second submit of the same form posts nothing new.
    key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    # The newest message the page shows: the answer brings everything after it.
    after = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    @staticmethod
    def fresh_key() -> str:
        return uuid.uuid4().hex


class EditForm(forms.Form):
    body = forms.CharField(
        label=_("Message"),
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ChannelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    kind = forms.ChoiceField(
        label=_("Who can read it"),
        choices=[
            (ChannelKind.PUBLIC, _("All staff (public topic)")),
            (ChannelKind.PRIVATE, _("Only the members I add (private)")),
            (ChannelKind.DEPARTMENT, _("My department's staff")),
        ],
        widget=forms.RadioSelect,
        initial=ChannelKind.PUBLIC,
    )


class PeopleForm(forms.Form):
    people = forms.CharField(
        label=_("User names"),
        max_length=400,
        help_text=_("One or more colleagues' user names, separated by commas."),
    )

    def clean_people(self) -> list[str]:
        names = [n.strip().lstrip("@") for n in self.cleaned_data["people"].split(",")]
        names = [n for n in names if n]
        if not names:
            raise forms.ValidationError(_("Give at least one user name."))
        return names


class MemberForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search messages"), max_length=200, required=False)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class SettingsForm(forms.Form):
    email_mode = forms.ChoiceField(
        label=_("E-mail me about messages I missed"),
        choices=EmailMode.choices,
        widget=forms.RadioSelect,
    )
    delay_minutes = forms.TypedChoiceField(
        label=_("When a message is still unread after"),
        choices=DELAY_CHOICES,
        coerce=int,
    )
