"""Due dates against the dates in research/romanian-domain-rules.md §1, §8."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from cetatea.cases import due
from cetatea.catalog.choices import Regime
from cetatea.core import workdays
from cetatea.core.models import ClosureDay

BUC = ZoneInfo("Europe/Bucharest")
D = dt.date

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "day, working",
    [
        (D(2026, 1, 1), False),  # New Year
        (D(2026, 1, 6), False),  # Boboteaza (from 2024)
        (D(2026, 1, 7), False),  # Sf. Ioan
        (D(2026, 1, 24), False),  # Unirea (a Saturday anyway)
        (D(2026, 4, 10), False),  # Orthodox Good Friday 2026
        (D(2026, 4, 13), False),  # Easter Monday 2026
        (D(2026, 6, 1), False),  # Children's Day and Pentecost Monday 2026
        (D(2026, 12, 1), False),
        (D(2026, 11, 30), False),  # Sf. Andrei, a Monday
        (D(2026, 12, 2), True),
        (D(2026, 11, 28), False),  # Saturday
        (D(2026, 4, 14), True),
    ],
)
def test_working_days_follow_the_labour_code(day, working):
    assert workdays.is_working_day(day) is working


def test_2026_has_16_distinct_legal_holidays():
    days = [D(2026, 1, 1) + dt.timedelta(n) for n in range(365)]
    weekday_holidays = [d for d in days if d.weekday() < 5 and not workdays.is_working_day(d)]
    # 24 Jan, Easter Sunday 12 Apr, Pentecost 31 May, 15 Aug, 26 Dec fall on weekends.
    assert len(weekday_holidays) == 16 - 5


def test_petition_due_30_calendar_days_later():
    # Registered Monday 2 March 2026 -> 1 April 2026, a Wednesday.
    registered = dt.datetime(2026, 3, 2, 10, 0, tzinfo=BUC)
    due_at, base = due.initial_due_at(
        regime=Regime.PETITION, registered_at=registered, target_hours=240
    )
    assert base == D(2026, 4, 1)
    assert due_at == dt.datetime(2026, 4, 1, 23, 59, 59, tzinfo=BUC)


def test_petition_due_on_a_holiday_rolls_to_next_working_day():
    # 11 March + 30 = 10 April 2026, Good Friday; then weekend, Easter Monday -> Tue 14 April.
    registered = dt.datetime(2026, 3, 11, 9, 0, tzinfo=BUC)
    due_at, base = due.initial_due_at(
        regime=Regime.PETITION, registered_at=registered, target_hours=240
    )
    assert base == D(2026, 4, 10)
    assert due_at.astimezone(BUC).date() == D(2026, 4, 14)


def test_petition_due_on_saturday_rolls_to_monday():
    # 29 October 2026 + 30 = 28 November 2026 (Saturday); Mon 30 Nov is Sf. Andrei,
    # Tue 1 Dec is the national day -> Wednesday 2 December.
    registered = dt.datetime(2026, 10, 29, 15, 0, tzinfo=BUC)
    due_at, _ = due.initial_due_at(
        regime=Regime.PETITION, registered_at=registered, target_hours=240
    )
    assert due_at.astimezone(BUC).date() == D(2026, 12, 2)


def test_extension_counts_from_the_unrolled_date():
    # base 10 April (Good Friday) + 15 = 25 April 2026 (Saturday) -> Monday 27 April.
    assert due.legal_due_at(D(2026, 4, 10), 15).date() == D(2026, 4, 27)


def test_registration_late_in_the_evening_counts_the_local_date():
    # 23:30 local on 2 March is 21:30 UTC; the term still starts on 2 March.
    registered = dt.datetime(2026, 3, 2, 21, 30, tzinfo=dt.UTC)
    _, base = due.initial_due_at(regime=Regime.PETITION, registered_at=registered, target_hours=240)
    assert base == D(2026, 4, 1)


def test_information_request_544_due_in_10_days():
    registered = dt.datetime(2026, 11, 20, 10, 0, tzinfo=BUC)  # + 10 = 30 Nov (holiday)
    due_at, _ = due.initial_due_at(
        regime=Regime.INFO_544, registered_at=registered, target_hours=240
    )
    assert due_at.astimezone(BUC).date() == D(2026, 12, 2)


def test_ticket_due_after_target_hours():
    registered = dt.datetime(2026, 11, 28, 10, 0, tzinfo=BUC)
    due_at, base = due.initial_due_at(
        regime=Regime.TICKET, registered_at=registered, target_hours=48
    )
    assert base is None
    assert due_at == registered + dt.timedelta(hours=48)


def test_institution_closure_day_also_rolls_forward():
    from django.core.cache import cache

    cache.delete(ClosureDay.CACHE_KEY)
    ClosureDay.objects.create(date=D(2026, 4, 1), reason="Zi liberă acordată")
    cache.delete(ClosureDay.CACHE_KEY)
    registered = dt.datetime(2026, 3, 2, 10, 0, tzinfo=BUC)
    due_at, _ = due.initial_due_at(
        regime=Regime.PETITION, registered_at=registered, target_hours=240
    )
    assert due_at.date() == D(2026, 4, 2)
    cache.delete(ClosureDay.CACHE_KEY)
