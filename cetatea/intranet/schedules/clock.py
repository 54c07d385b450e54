"""Local days and times of the roster (Europe/Bucharest), safe across DST changes.

Shifts are stored as aware datetimes (UTC in the database); patterns, coverage rules and
leave speak in local wall-clock times and whole local days. These helpers turn one into
the other. A wall-clock time that does not exist (03:30 on the last Sunday of March) is
read with the offset before the change, so it lands one hour later (04:30 summer time);
an ambiguous one (03:30 on the last Sunday of October) is its first occurrence.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_at(day: dt.date, time: dt.time) -> dt.datetime:
    """The aware instant of ``time`` on local ``day`` (normalised through UTC)."""
    naive = dt.datetime.combine(day, time)
    return naive.replace(tzinfo=tz()).astimezone(dt.UTC).astimezone(tz())


def local_midnight(day: dt.date) -> dt.datetime:
    return local_at(day, dt.time(0, 0))


def window(day: dt.date, start: dt.time, end: dt.time) -> tuple[dt.datetime, dt.datetime]:
    """The interval of a start–end wall-clock window on ``day``; an end at or before
    the start ends the next day (a night shift)."""
    end_day = day + dt.timedelta(days=1) if end <= start else day
    return local_at(day, start), local_at(end_day, end)


def days_span(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """From local midnight of ``first`` to local midnight after ``last`` (inclusive days)."""
    return local_midnight(first), local_midnight(last + dt.timedelta(days=1))


def local_date(value: dt.datetime) -> dt.date:
    return timezone.localtime(value, tz()).date()


def today() -> dt.date:
    return timezone.localdate(timezone.now(), tz())


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def date_range(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
