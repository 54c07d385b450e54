"""The operator's live call screen and the call log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cetatea.telephony import services
from cetatea.telephony.models import Call
from conftest import make_person


def start(call_id, number="0722123456", users=(), **kw):
    return services.cti_event(
        event="newCall",
        call_id=call_id,
        from_number=number,
        to_number="0258811528",
        users=users,
        **kw,
    )


def test_live_fragment_polls_and_sends_nothing_when_unchanged(client, personas):
    make_person(last_name="Ionescu", phones=["0722123456"])
    client.force_login(personas["operator"])
    empty = client.get(reverse("telephony:live"), HTTP_HX_REQUEST="true")
    html = empty.content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert "No current call" in html
    key = empty.context["screen"].key

    assert client.get(reverse("telephony:live"), {"key": key}).status_code == 204

    start("s-1", users=["op"], queue="dispecerat")
    changed = client.get(reverse("telephony:live"), {"key": key}, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200
    html = changed.content.decode()
    assert "Incoming call" in html and "Ionescu" in html
    assert 'hx-swap-oob="innerHTML:#call-announcer"' in html
    new_key = changed.context["screen"].key
    assert new_key != key
    assert client.get(reverse("telephony:live"), {"key": new_key}).status_code == 204

    services.cti_event(event="answer", call_id="s-1", answering_number="op")
    answered = client.get(reverse("telephony:live"), {"key": new_key}, HTTP_HX_REQUEST="true")
    assert "Call in progress with Ionescu" in answered.content.decode()


def test_console_page_has_the_live_region_and_the_polled_screen(client, personas):
    client.force_login(personas["operator"])
    html = client.get(reverse("telephony:console")).content.decode()
    assert 'id="call-announcer"' in html and 'aria-live="assertive"' in html
    assert 'id="call-screen"' in html
    assert reverse("telephony:live") in html


def test_a_call_offered_to_someone_else_is_in_the_queue_list(client, personas):
    make_person(last_name="Vecin", phones=["0722123456"])
    start("q-1", users=["clerk"], queue="registratura")
    client.force_login(personas["operator"])
    response = client.get(reverse("telephony:live"), HTTP_HX_REQUEST="true")
    assert response.context["screen"].call is None
    assert [c.call_id for c in response.context["screen"].queue] == ["q-1"]
    assert "Other calls ringing" in response.content.decode()


def test_a_call_answered_by_someone_else_leaves_my_screen(client, personas):
    make_person(phones=["0722123456"])
    start("a-1", users=["op", "clerk"])
    services.cti_event(event="answer", call_id="a-1", answering_number="clerk")
    client.force_login(personas["operator"])
    screen = client.get(reverse("telephony:live")).context["screen"]
    assert screen.call is None and screen.queue == []


def test_stale_ringing_calls_leave_the_screen(client, personas):
    start("old", users=["op"], at=timezone.now() - dt.timedelta(hours=5))
    client.force_login(personas["operator"])
    screen = client.get(reverse("telephony:live")).context["screen"]
    assert screen.call is None and screen.queue == []


@pytest.mark.parametrize("who", ["crew", "citizen", "staff"])
def test_only_call_centre_roles_see_calls(client, personas, who):
    client.force_login(personas[who])
    for name in ("telephony:console", "telephony:live", "telephony:log"):
        assert client.get(reverse(name)).status_code == 403


def test_anonymous_goes_to_login(client, db):
    response = client.get(reverse("telephony:console"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_call_log_is_paginated_newest_first_with_bounded_queries(
    client, personas, settings, django_assert_max_num_queries
):
    settings.CETATEA_PAGE_SIZE = 3
    make_person(phones=["0722123456"])
    base = timezone.now() - dt.timedelta(hours=1)
    for i in range(7):
        start(f"l-{i}", at=base + dt.timedelta(minutes=i), users=["op"])
        services.cti_event(event="answer", call_id=f"l-{i}", answering_number="op")
        services.cti_event(event="hangup", call_id=f"l-{i}", cause="normalClearing")
    client.force_login(personas["operator"])
    with django_assert_max_num_queries(8):
        first = client.get(reverse("telephony:log"))
    ids = [c.call_id for c in first.context["page"].calls]
    assert ids == ["l-6", "l-5", "l-4"]
    cursor = first.context["page"].next_cursor
    second = client.get(reverse("telephony:log"), {"cursor": cursor})
    assert [c.call_id for c in second.context["page"].calls] == ["l-3", "l-2", "l-1"]
    third = client.get(reverse("telephony:log"), {"cursor": second.context["page"].next_cursor})
    assert [c.call_id for c in third.context["page"].calls] == ["l-0"]
    assert third.context["page"].next_cursor == ""
    mine = client.get(reverse("telephony:log"), {"mine": "on"})
    assert len(mine.context["page"].calls) == 3
    personas["clerk"].groups.add(*personas["operator"].groups.all())
    client.force_login(personas["clerk"])
    assert client.get(reverse("telephony:log"), {"mine": "on"}).context["page"].calls == []
    assert client.get(reverse("telephony:log"), {"cursor": "garbage"}).status_code == 200


def test_started_at_is_kept_for_the_log(db):
    at = timezone.now() - dt.timedelta(minutes=3)
    call = start("t-1", at=at)
    assert Call.objects.get(pk=call.pk).started_at == at


def test_after_the_hangup_the_caller_stays_on_screen_until_the_next_call(client, personas):
    make_person(last_name="Ionescu", phones=["0722123456"])
    make_person(last_name="Georgescu", phones=["0744555666"])
    start("h-1", users=["op"])
    services.cti_event(event="answer", call_id="h-1", answering_number="op")
    services.cti_event(event="hangup", call_id="h-1", cause="normalClearing")
    client.force_login(personas["operator"])
    ended = client.get(reverse("telephony:live"), HTTP_HX_REQUEST="true")
    html = ended.content.decode()
    assert "Last call (ended)" in html and "Ionescu" in html
    start("h-2", number="0744555666", users=["op"])
    html = client.get(reverse("telephony:live"), HTTP_HX_REQUEST="true").content.decode()
    assert "Incoming call from Georgescu" in html


def test_the_new_person_form_survives_refreshes_during_its_call(client, personas):
    start("p-1", number="0733000111", users=["op"])
    client.force_login(personas["operator"])
    html = client.get(reverse("telephony:live"), HTTP_HX_REQUEST="true").content.decode()
    call = Call.objects.get(call_id="p-1")
    assert f'id="new-person-{call.pk}" hx-preserve="true"' in html
