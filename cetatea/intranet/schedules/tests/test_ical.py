"""The iCalendar feeds, parsed back with the icalendar library."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from icalendar import Calendar

from cetatea.intranet.schedules import services
from cetatea.intranet.schedules.choices import LeaveKind, LeaveStatus
from cetatea.intranet.schedules.models import Leave
from cetatea.intranet.schedules.tests.conftest import BUC, MONDAY, at, make_shift

TUESDAY = MONDAY + dt.timedelta(days=1)


def _fetch(client, feed):
    return client.get(reverse("schedules:ical", args=[feed.token]))


def _events(response):
    cal = Calendar.from_ical(response.content)
    return cal, list(cal.walk("VEVENT"))


@time_machine.travel(at(MONDAY, 9), tick=False)
def test_the_personal_feed_has_published_shifts_and_approved_leave(sched, client):
    clerk, post = sched["clerk"], sched["counter1"]
    shift = make_shift(post, clerk, at(TUESDAY, 8), at(TUESDAY, 16))
    make_shift(post, clerk, at(TUESDAY, 18), at(TUESDAY, 20), published=False)  # draft
    make_shift(
        post, clerk, at(MONDAY, 8) + dt.timedelta(days=200), at(MONDAY, 16) + dt.timedelta(days=200)
    )
    make_shift(post, sched["staff"], at(TUESDAY, 8), at(TUESDAY, 16))  # someone else
    night = make_shift(post, clerk, at(dt.date(2026, 3, 28), 22), at(dt.date(2026, 3, 29), 6))
    leave = Leave.objects.create(
        person=clerk,
        start_date=dt.date(2026, 2, 2),
        end_date=dt.date(2026, 2, 6),
        kind="annual",
        status=LeaveStatus.APPROVED,
        created_at=at(MONDAY, 8),
    )
    Leave.objects.create(
        person=clerk,
        start_date=dt.date(2026, 2, 9),
        end_date=dt.date(2026, 2, 9),
        kind="other",
        created_at=at(MONDAY, 8),
    )  # pending: not in the feed
    feed = services.feed_issue(user=clerk)
    response = _fetch(client, feed)  # no login: a calendar app cannot log in
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal, events = _events(response)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Bucharest"]
    uids = sorted(str(e["UID"]) for e in events)
    assert uids == sorted(
        [
            f"shift-{shift.pk}@127.0.0.1",
            f"shift-{night.pk}@127.0.0.1",
            f"leave-{leave.pk}@127.0.0.1",
        ]
    )
    by_uid = {str(e["UID"]): e for e in events}
    first = by_uid[f"shift-{shift.pk}@127.0.0.1"]
    assert first["DTSTART"].params["TZID"] == "Europe/Bucharest"
    assert first.decoded("DTSTART") == at(TUESDAY, 8)
    assert first.decoded("DTEND") == at(TUESDAY, 16)
    assert first.decoded("DTSTAMP") == at(MONDAY, 9)
    assert str(first["SUMMARY"]) == "Ghișeul 1"  # the site's language, Romanian
    across_dst = by_uid[f"shift-{night.pk}@127.0.0.1"]
    # Same-zone subtraction in Python is wall-clock; compare instants in UTC.
    start, end = (across_dst.decoded(k).astimezone(dt.UTC) for k in ("DTSTART", "DTEND"))
    assert end - start == dt.timedelta(hours=7)
    assert across_dst.decoded("DTEND").astimezone(BUC).utcoffset() == dt.timedelta(hours=3)
    off = by_uid[f"leave-{leave.pk}@127.0.0.1"]
    assert off.decoded("DTSTART") == dt.date(2026, 2, 2)
    assert off.decoded("DTEND") == dt.date(2026, 2, 7)  # exclusive end
    with translation.override("ro"):
        assert str(off["SUMMARY"]) == str(LeaveKind.ANNUAL.label)


@time_machine.travel(at(MONDAY, 9), tick=False)
def test_a_new_token_or_revocation_stops_the_old_address(sched, client):
    clerk = sched["clerk"]
    feed = services.feed_issue(user=clerk)
    old_token = feed.token
    assert _fetch(client, feed).status_code == 200
    client.force_login(clerk)
    client.post(reverse("schedules:feeds"), {"action": "issue"})
    feed.refresh_from_db()
    assert feed.token != old_token
    assert client.get(reverse("schedules:ical", args=[old_token])).status_code == 404
    assert _fetch(client, feed).status_code == 200
    client.post(reverse("schedules:feeds"), {"action": "revoke", "feed": feed.pk})
    assert _fetch(client, feed).status_code == 404
    # A deactivated account's feeds stop too.
    feed = services.feed_issue(user=clerk)
    clerk.is_active = False
    clerk.save(update_fields=["is_active"])
    assert _fetch(client, feed).status_code == 404


@time_machine.travel(at(MONDAY, 9), tick=False)
def test_the_team_feed_names_people_hides_the_leave_kind_and_follows_membership(sched, client):
    clerk, staff, post = sched["clerk"], sched["staff"], sched["counter1"]
    make_shift(post, staff, at(TUESDAY, 8), at(TUESDAY, 16))
    Leave.objects.create(
        person=staff,
        start_date=TUESDAY + dt.timedelta(days=1),
        end_date=TUESDAY + dt.timedelta(days=1),
        kind="medical",
        status=LeaveStatus.APPROVED,
        created_at=at(MONDAY, 8),
    )
    feed = services.feed_issue(user=clerk, team=sched["counters"])
    _, events = _events(_fetch(client, feed))
    summaries = sorted(str(e["SUMMARY"]) for e in events)
    with translation.override("ro"):
        on_leave = gettext("%(person)s on leave") % {"person": "staff"}
    assert summaries == sorted(["Ghișeul 1 – staff", on_leave])
    assert "medical" not in _fetch(client, feed).content.decode().lower()
    sched["counters"].members.remove(clerk)
    assert _fetch(client, feed).status_code == 404
