"""The iCalendar feeds (RFC 5545) built with the ``icalendar`` library.

A personal feed has the person's published shifts and approved leave; a team feed has
the team's published shifts (and "on leave" without the kind, which may be medical).
Times are written with TZID=Europe/Bucharest and the VTIMEZONE that defines it; leave
is all-day (DATE values). The range is bounded: from CETATEA_SCHEDULES_FEED_PAST_DAYS
ago to CETATEA_SCHEDULES_FEED_FUTURE_DAYS ahead, and at most MAX_EVENTS events.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, Timezone

from cetatea.intranet.schedules import clock
from cetatea.intranet.schedules.choices import LeaveStatus
from cetatea.intranet.schedules.models import CalendarFeed, Leave, Shift

MAX_EVENTS = 2000


def feed_range() -> tuple[dt.date, dt.date]:
    today = clock.today()
    past = int(getattr(settings, "CETATEA_SCHEDULES_FEED_PAST_DAYS", 30))
    future = int(getattr(settings, "CETATEA_SCHEDULES_FEED_FUTURE_DAYS", 180))
    return today - dt.timedelta(days=past), today + dt.timedelta(days=future)


def _host() -> str:
    from urllib.parse import urlsplit

    return urlsplit(settings.CETATEA_SITE_URL).hostname or "cetatea"


def _person_name(user) -> str:
    return user.get_full_name() or user.get_username()


def build(feed: CalendarFeed) -> bytes:
    """The feed in the site's language (a calendar app's Accept-Language is arbitrary)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _build(feed)


def _build(feed: CalendarFeed) -> bytes:
    first, last = feed_range()
    start, end = clock.days_span(first, last)
    host = _host()
    stamp = timezone.now().astimezone(dt.UTC)
    cal = Calendar()
    cal.add("prodid", "-//Cetatea//Schedules//RO")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    name = str(feed.team) if feed.team_id else _person_name(feed.user)
    cal.add("x-wr-calname", _("Shifts: %(name)s") % {"name": name})
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    cal.add_component(Timezone.from_tzid(settings.TIME_ZONE, first_date=first, last_date=last))

    shifts = Shift.objects.live().filter(published=True).overlapping(start, end)
    if feed.team_id:
        shifts = shifts.filter(team_id=feed.team_id)
        leaves = Leave.objects.filter(person__teams=feed.team_id)
    else:
        shifts = shifts.filter(person_id=feed.user_id)
        leaves = Leave.objects.filter(person_id=feed.user_id)
    tz = clock.tz()
    for shift in shifts.select_related("post", "person").order_by("start")[:MAX_EVENTS]:
        event = Event()
        event.add("uid", f"shift-{shift.pk}@{host}")
        event.add("dtstamp", stamp)
        event.add("last-modified", shift.updated_at.astimezone(dt.UTC))
        event.add("sequence", shift.version)
        event.add("dtstart", timezone.localtime(shift.start, tz))
        event.add("dtend", timezone.localtime(shift.end, tz))
        if feed.team_id:
            who = _person_name(shift.person) if shift.person else _("open shift")
            event.add("summary", f"{shift.post} – {who}")
        else:
            event.add("summary", str(shift.post))
        event.add("location", str(shift.post))
        if shift.note:
            event.add("description", shift.note)
        cal.add_component(event)
    leaves = (
        leaves.filter(status=LeaveStatus.APPROVED, start_date__lte=last, end_date__gte=first)
        .select_related("person")
        .order_by("start_date")[:MAX_EVENTS]
    )
    for leave in leaves:
        event = Event()
        event.add("uid", f"leave-{leave.pk}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", leave.start_date)
        event.add("dtend", leave.end_date + dt.timedelta(days=1))  # DTEND of a DATE is exclusive
        event.add("transp", "TRANSPARENT")
        if feed.team_id:
            event.add("summary", _("%(person)s on leave") % {"person": _person_name(leave.person)})
        else:
            event.add("summary", leave.get_kind_display())
        cal.add_component(event)
    return cal.to_ical()
