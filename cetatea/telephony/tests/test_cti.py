"""The CTI endpoint: from newCall to a logged call on the caller's 360° page."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from cetatea.cases.models import Interaction
from cetatea.catalog.models import StaffProfile
from cetatea.core.models import AuditLog
from cetatea.people.models import Person
from cetatea.telephony.models import Call, CallOffer
from conftest import make_person

TOKEN = "s3cret-cti-token-for-tests"
URL = f"/api/v1/cti/{TOKEN}"


@pytest.fixture(autouse=True)
def _cti_token(settings):
    settings.CETATEA_CTI_TOKEN = TOKEN


def post(client, url=URL, **data):
    data = {k.replace("user_list", "user[]"): v for k, v in data.items()}
    return client.post(url, data)


def new_call(client, call_id="c-1", frm="0722123456", to="0258811528", **extra):
    return post(
        client, event="newCall", callId=call_id, direction="in", to=to, **{"from": frm}, **extra
    )


def test_call_from_new_call_to_the_person_360_page(client, personas):
    person = make_person(last_name="Ionescu", first_name="Maria", phones=["0722 123 456"])
    op = personas["operator"]
    StaffProfile.objects.create(user=op, phone_extension="201")

    assert new_call(client, queue="dispecerat", user_list=["201"]).status_code == 200
    call = Call.objects.get(call_id="c-1")
    assert call.from_number == "+40722123456"
    assert call.person == person
    assert call.state == "ringing"
    assert list(CallOffer.objects.filter(call=call).values_list("user", flat=True)) == [op.pk]

    # The operator's live screen shows the caller's record.
    client.force_login(op)
    screen = client.get(reverse("telephony:live"), HTTP_HX_REQUEST="true")
    assert screen.status_code == 200
    html = screen.content.decode()
    assert "Ionescu Maria" in html
    assert reverse("people:detail", args=[person.pk]) in html
    assert "Incoming call from Ionescu Maria" in html  # the live region's announcement

    t0 = timezone.now()
    answered = post(client, event="answer", callId="c-1", answeringNumber="201")
    assert answered.status_code == 200
    call.refresh_from_db()
    assert call.state == "answered" and call.answered_by == op

    call.answered_at = t0 - dt.timedelta(seconds=95)  # as if they talked for 95 s
    call.save(update_fields=["answered_at"])
    hung = post(client, event="hangup", callId="c-1", cause="normalClearing")
    assert hung.status_code == 200
    call.refresh_from_db()
    assert call.state == "ended" and call.cause == "normalClearing"
    assert 95 <= call.duration_seconds <= 100

    interaction = Interaction.objects.get(external_id="c-1")
    assert interaction.channel == "phone"
    assert interaction.person == person
    assert interaction.direction == "in"
    assert interaction.handled_by == op
    assert interaction.duration_seconds == call.duration_seconds
    assert call.interaction == interaction

    page = client.get(reverse("people:detail", args=[person.pk]))
    assert page.status_code == 200
    timeline = page.content.decode()
    assert "tl-interaction" in timeline
    assert f"{call.duration_seconds} s" in timeline
    assert "Phone (operator)" in timeline or "Telefon" in timeline


def test_bad_token_is_refused_and_records_nothing(client, settings, db):
    make_person(phones=["0722123456"])
    response = new_call(client, url="/api/v1/cti/wrong-token")
    assert response.status_code == 401
    assert not Call.objects.exists()
    settings.CETATEA_CTI_TOKEN = ""  # endpoint off: even an empty-looking guess fails
    assert new_call(client, url="/api/v1/cti/x").status_code == 401
    assert not Call.objects.exists()


def test_get_is_not_allowed(client):
    assert client.get(URL).status_code == 405


@pytest.mark.parametrize("event", ["answer", "hangup"])
def test_unknown_call_id_is_a_clear_404_and_changes_nothing(client, db, event):
    new_call(client, call_id="known")
    response = post(client, event=event, callId="never-started", cause="normalClearing")
    assert response.status_code == 404
    body = response.json()
    assert "callId" in body["fields"]
    assert "newCall" in body["error"]
    assert list(Call.objects.values_list("call_id", "state")) == [("known", "ringing")]
    assert not Interaction.objects.exists()


def test_malformed_events_are_refused_by_field(client, db):
    bad = post(client, event="transfer", callId="x")
    assert bad.status_code == 400 and "event" in bad.json()["fields"]
    missing = post(client, event="newCall", **{"from": "0722123456"})
    assert missing.status_code == 400 and "callId" in missing.json()["fields"]
    sideways = post(client, event="newCall", callId="y", direction="sideways")
    assert sideways.status_code == 400 and "direction" in sideways.json()["fields"]
    garbage = client.post(URL, data="[1,2]", content_type="application/json")
    assert garbage.status_code == 400
    assert not Call.objects.exists()


def test_repeated_events_are_idempotent(client, personas):
    person = make_person(phones=["0722123456"])
    for _ in range(2):
        assert new_call(client, call_id="r-1", user_list=["op"]).status_code == 200
    assert Call.objects.count() == 1
    assert CallOffer.objects.count() == 1
    for _ in range(2):
        assert post(client, event="answer", callId="r-1", user_list=["op"]).status_code == 200
    first = post(client, event="hangup", callId="r-1", cause="normalClearing")
    assert first.status_code == 200
    ended = Call.objects.get()
    again = post(client, event="hangup", callId="r-1", cause="cancel")
    assert again.status_code == 200
    call = Call.objects.get()
    assert call.cause == "normalClearing"
    assert call.ended_at == ended.ended_at
    assert call.answered_by == personas["operator"]
    assert Interaction.objects.filter(person=person).count() == 1
    # An answer after the hang-up does not reopen the call.
    post(client, event="answer", callId="r-1")
    assert Call.objects.get().state == "ended"


def test_missed_call_is_logged_with_no_talk_time(client, db):
    person = make_person(phones=["0722123456"])
    new_call(client, call_id="m-1", queue="taxe")
    post(client, event="hangup", callId="m-1", cause="noAnswer")
    call = Call.objects.get()
    assert call.is_missed and call.duration_seconds == 0 and call.answered_by is None
    interaction = Interaction.objects.get(person=person)
    assert interaction.duration_seconds == 0
    assert "Missed call" in interaction.summary and "taxe" in interaction.summary


def test_zammad_style_numbers_json_body_and_anonymous_callers(client, db):
    person = make_person(phones=["+40722123456"])
    body = {
        "event": "newCall",
        "from": "40722123456",  # international without "+", as Zammad's PBX scripts send
        "to": "40258811528",
        "direction": "in",
        "callId": "j-1",
        "user": ["Ana Pop"],
    }
    response = client.post(URL, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    call = Call.objects.get(call_id="j-1")
    assert call.from_number == "+40722123456" and call.person == person
    assert call.agents == ["Ana Pop"]

    numeric = {"event": "hangup", "callId": "j-1", "cause": "noAnswer"}
    assert (
        client.post(URL, data=json.dumps(numeric), content_type="application/json").status_code
        == 200
    )
    assert Call.objects.get(call_id="j-1").state == "ended"
    as_number = {"event": "newCall", "from": "0722123456", "direction": "in", "callId": 42}
    assert (
        client.post(URL, data=json.dumps(as_number), content_type="application/json").status_code
        == 200
    )
    assert Call.objects.filter(call_id="42").exists()

    assert new_call(client, call_id="anon", frm="anonymous").status_code == 200
    anon = Call.objects.get(call_id="anon")
    assert anon.from_number == "anonymous" and anon.person is None
    post(client, event="hangup", callId="anon", cause="cancel")
    assert Call.objects.get(call_id="anon").state == "ended"
    assert not Interaction.objects.filter(external_id="anon").exists()


def test_outgoing_call_finds_the_called_citizen(client, personas):
    person = make_person(phones=["0744555666"])
    personas["operator"].first_name, personas["operator"].last_name = "Ana", "Pop"
    personas["operator"].save()
    post(
        client,
        event="newCall",
        callId="o-1",
        direction="out",
        **{"from": "0258811528", "to": "0744555666"},
        user_list=["Ana Pop"],
    )
    post(client, event="answer", callId="o-1", user_list=["Ana Pop"])
    post(client, event="hangup", callId="o-1", cause="normalClearing")
    interaction = Interaction.objects.get(external_id="o-1")
    assert interaction.person == person
    assert interaction.direction == "out"
    assert interaction.handled_by == personas["operator"]


def test_unknown_caller_gets_the_new_person_form_then_the_call_is_logged_on_them(client, personas):
    op = personas["operator"]
    new_call(client, call_id="u-1", frm="0733 000 111", user_list=["op"])
    post(client, event="answer", callId="u-1", answeringNumber="op")
    client.force_login(op)
    page = client.get(reverse("telephony:console"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Unknown caller" in html
    assert f'action="{reverse("people:create")}"' in html
    assert 'value="0733 000 111"' in html  # the number, prefilled in national format

    created = client.post(
        reverse("people:create"),
        {
            "kind": "individual",
            "last_name": "Nou",
            "first_name": "Vasile",
            "phone": "0733 000 111",
            "locality": "Alba Iulia",
        },
    )
    assert created.status_code == 302
    person = Person.objects.get(last_name="Nou")
    post(client, event="hangup", callId="u-1", cause="normalClearing")
    call = Call.objects.get()
    assert call.person == person
    assert Interaction.objects.get(external_id="u-1").person == person


def test_several_persons_with_the_number_are_pointed_out(client, personas):
    make_person(last_name="Unu", phones=["0722123456"])
    make_person(last_name="Doi", phones=["0722123456"])
    new_call(client, call_id="d-1", user_list=["op"])
    assert Call.objects.get().caller_matches == 2
    client.force_login(personas["operator"])
    html = client.get(reverse("telephony:console")).content.decode()
    assert "2 persons have this number." in html


def test_showing_the_caller_is_audited(client, personas):
    person = make_person(phones=["0722123456"])
    new_call(client, user_list=["op"])
    client.force_login(personas["operator"])
    client.get(reverse("telephony:console"))
    audit = AuditLog.objects.get(person_id=person.pk, action="view_person")
    assert audit.actor == personas["operator"] and audit.details["call"] == "c-1"
