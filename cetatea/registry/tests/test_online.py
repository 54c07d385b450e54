"""Petitions and public-information requests sent from the website."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from cetatea.registry.choices import EntryStatus, EventKind, RegistryChannel
from cetatea.registry.models import Entry
from cetatea.registry.online import SUBMIT_SALT

URL = "/registratura/petitie/"


def _form(**overrides):
    # Rendered a minute before it is sent (stamped relative to now: a fixed date would
    # expire with the form's one-day limit).
    with time_machine.travel(timezone.now() - dt.timedelta(minutes=1)):
        stamp = signing.dumps(1.0, salt=SUBMIT_SALT)
    data = {
        "kind": "petitie",
        "name": "Ionescu Maria",
        "address": "Str. Mihai Viteazu 12, Alba Iulia",
        "email": "maria@example.ro",
        "phone": "",
        "summary": "Solicit montarea unui limitator de viteză pe str. Mihai Viteazu.",
        "stamp": stamp,
        "submission_key": "k-1",
        "website": "",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_online_petition_is_registered_with_its_case_and_acknowledged_once(
    client, registry, django_capture_on_commit_callbacks
):
    client.cookies["django_language"] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, _form())
        again = client.post(URL, _form())  # double submit
    assert response.status_code == 200 and again.status_code == 200
    entry = Entry.objects.get()
    assert entry.book.point.is_general and entry.channel == RegistryChannel.WEB
    assert entry.status == EntryStatus.OPEN and entry.due_date is not None
    assert entry.case is not None and entry.case.channel == "web"
    assert entry.case.regime == "petition"
    body = response.content.decode()
    assert entry.display_number in body and entry.status_code in body
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["maria@example.ro"] and entry.display_number in message.subject
    assert entry.status_code in message.body
    assert entry.events.filter(kind=EventKind.NOTICE).count() == 1
    # The link in the page goes to the public status page with the number and the code.
    link = re.search(r'href="([^"]*registratura/\?[^"]*)"', body).group(1)
    assert "c=" + entry.status_code in link.replace("&amp;", "&")


@pytest.mark.django_db
def test_information_request_gets_the_10_day_term(client, registry):
    with time_machine.travel("2026-11-03 09:00:00+02:00", tick=False):
        client.post(URL, _form(kind="info-544", submission_key="k-2", summary="Bugetul 2026"))
    entry = Entry.objects.get()
    assert entry.doc_type.code == "info-544"
    assert str(entry.due_date) == "2026-11-13"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field_text"),
    [
        ({"name": ""}, "name"),
        ({"address": ""}, "address"),
        ({"email": "not-an-email"}, "e-mail"),
        ({"summary": ""}, "petition"),
        ({"kind": "corespondenta"}, "sending"),
    ],
)
def test_bad_input_is_refused_and_registers_nothing(client, registry, overrides, field_text):
    client.cookies["django_language"] = "en"
    response = client.post(URL, _form(**overrides))
    assert response.status_code == 400
    assert field_text in response.content.decode().lower()
    assert Entry.objects.count() == 0


@pytest.mark.django_db
def test_bots_are_refused(client, registry):
    assert client.post(URL, _form(website="http://spam")).status_code == 400
    fresh = signing.dumps(__import__("time").time(), salt=SUBMIT_SALT)
    assert client.post(URL, _form(stamp=fresh)).status_code == 400
    assert Entry.objects.count() == 0


@pytest.mark.django_db
def test_the_form_is_romanian_first(client, registry):
    response = client.get(URL)
    assert response.status_code == 200
    assert "Trimiteți o petiție online" in response.content.decode()
    assert reverse("registry_public:online_petition") == URL
    client.cookies["django_language"] = "en"
    assert "Send a petition online" in client.get(URL).content.decode()
