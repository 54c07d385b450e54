"""Legal terms and working days.

Romanian terms in days are calendar days; when the last day is a Saturday, a Sunday, a
legal holiday (Labour Code art. 139, from the ``holidays`` package) or an institution
closure day, the term ends at the end of the next working day (Civil Code art. 2554,
CPC art. 181(2)). Rules: research/romanian-domain-rules.md §1.3, §1.8, §2, §8.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings

PETITION_DAYS = 30  # OG 27/2002 art. 8(1)
PETITION_EXTENSION_MAX_DAYS = 15  # OG 27/2002 art. 9
FORWARD_DAYS = 5  # OG 27/2002 art. 6^1
INFO_544_DAYS = 10  # Law 544/2001 art. 7(1)
INFO_544_EXTENDED_DAYS = 30


@lru_cache(maxsize=64)
def _romanian_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("RO", years=year).keys())


def closure_days() -> frozenset[dt.date]:
    """Institution closure days (government "punte" days) set in the admin."""
    from cetatea.core.models import ClosureDay

    return ClosureDay.cached_dates()


def is_working_day(day: dt.date, closures: frozenset[dt.date] | None = None) -> bool:
    if closures is None:
        closures = closure_days()
    return day.weekday() < 5 and day not in _romanian_holidays(day.year) and day not in closures


def roll_forward(day: dt.date, closures: frozenset[dt.date] | None = None) -> dt.date:
    """The day itself if it is a working day, else the first working day after it."""
    if closures is None:
        closures = closure_days()
    while not is_working_day(day, closures):
        day += dt.timedelta(days=1)
    return day


def term_end(start: dt.date, days: int, closures: frozenset[dt.date] | None = None) -> dt.date:
    """Last day of a term of ``days`` calendar days counted from ``start`` (the day of
    registration is not counted), rolled forward past non-working days."""
    return roll_forward(start + dt.timedelta(days=days), closures)


def end_of_day(day: dt.date) -> dt.datetime:
    """A term ends at 24:00 of its last day, local time (Civil Code art. 2553)."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=tz)


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
