"""The citizen's side of the electronic registry: send a petition or a public-information
request from the website (/registratura/petitie/). Thin views over
``services.registry_online_submit``."""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from cetatea.registry.documents import public_status_url
from cetatea.registry.services import registry_online_submit

SUBMIT_SALT = "cetatea.registry.online-petition"
MIN_FILL_SECONDS = 3  # a person takes longer than this to fill the form; a bot does not
ONLINE_RATE = "10/h"


class OnlinePetitionForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What are you sending?"),
        widget=forms.RadioSelect,
        choices=[
            ("petitie", gettext_lazy("A petition: a request, complaint, report or proposal")),
            ("info-544", gettext_lazy("A request for public information (Law 544/2001)")),
        ],
    )
    name = forms.CharField(
        label=gettext_lazy("Your full name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    address = forms.CharField(
        label=gettext_lazy("Your address"),
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    email = forms.EmailField(
        label=gettext_lazy("E-mail (the answer comes here)"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone (optional)"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    summary = forms.CharField(
        label=gettext_lazy("Your petition"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    # Anti-spam: a field people never see and a signed time of rendering.
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1"}))
    stamp = forms.CharField(widget=forms.HiddenInput)
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("kind", "petitie")
            self.initial.setdefault(
                "stamp", signing.dumps(timezone.now().timestamp(), salt=SUBMIT_SALT)
            )
            self.initial.setdefault("submission_key", uuid.uuid4().hex)

    def is_spam(self) -> bool:
        if self.data.get("website"):
            return True
        try:
            rendered = signing.loads(self.data.get("stamp", ""), salt=SUBMIT_SALT, max_age=86400)
        except signing.BadSignature:
            return True
        return timezone.now().timestamp() - float(rendered) < MIN_FILL_SECONDS


@ratelimit(key="ip", rate=ONLINE_RATE, method="POST", block=False)
@require_http_methods(["GET", "POST"])
def online_petition(request):
    if request.method != "POST":
        return _page(request, OnlinePetitionForm())
    form = OnlinePetitionForm(request.POST)
    if getattr(request, "limited", False):
        form.is_valid()
        form.add_error(None, _("Too many submissions from your connection; please try later."))
        return _page(request, form, status=429)
    if not form.is_valid():
        return _page(request, form, status=400)
    if form.is_spam():
        form.add_error(
            None,
            _("Your petition looks automated and was not sent. Please fill in the form again."),
        )
        return _page(request, form, status=400)
    data = form.cleaned_data
    try:
        entry = _submit(request, data)
    except ValidationError as exc:
        for fieldname, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(fieldname if fieldname in form.fields else None, error)
        return _page(request, form, status=400)
    return render(
        request,
        "registry/online_done.html",
        {"entry": entry, "status_url": public_status_url(entry)},
    )


def _submit(request, data):
    from cetatea.registry.models import Entry

    key = data["submission_key"]
    # The status link needs the entry; the e-mail is written after the number is taken.
    existing = Entry.objects.filter(submit_token=f"web:{key}").first() if key else None
    if existing is not None:
        return existing
    return registry_online_submit(
        kind=data["kind"],
        name=data["name"],
        address=data["address"],
        email=data["email"],
        phone=data["phone"],
        summary=data["summary"],
        submission_key=key,
        status_url=settings.CETATEA_SITE_URL.rstrip("/") + reverse("registry_public:public_status"),
    )


def _page(request, form, status=200):
    return render(request, "registry/online_petition.html", {"form": form}, status=status)
