"""The schedules' demo data: built from the demo accounts of seed_demo, once."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from cetatea.intranet.schedules import clock, selectors
from cetatea.intranet.schedules.choices import LeaveStatus, SwapStatus
from cetatea.intranet.schedules.demo import seed_schedules_demo
from cetatea.intranet.schedules.models import CoverageRule, Leave, Post, Shift, ShiftPattern, Swap


@pytest.fixture
def demo_users(db):
    """The staff accounts exactly as ``seed_demo`` makes them, on the real catalogue."""
    from cetatea.core import roles
    from cetatea.people.management.commands.seed_demo import Command

    call_command("load_catalog", stdout=io.StringIO())
    roles.sync_roles()
    return Command()._create_users()


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (Post, CoverageRule, ShiftPattern, Shift, Leave, Swap)
    }


def test_demo_roster_is_published_for_this_week_and_next_once(demo_users):
    seed_schedules_demo(demo_users)
    counts = _counts()
    assert counts["Post"] == 2
    assert counts["CoverageRule"] == 5
    assert counts["ShiftPattern"] == 4
    # Two weeks of Mon-Fri: 3 call-centre shifts and 2 counter shifts a day.
    assert counts["Shift"] == 2 * 5 * (3 + 2)
    assert not Shift.objects.filter(published=False).exists()

    operator, clerk = demo_users["operator"], demo_users["clerk"]
    monday = clock.monday_of(clock.today())
    for user in (operator, clerk):
        assert len(selectors.my_shifts(user, monday, monday + dt.timedelta(days=6))) == 5
    panel = selectors.home_panel(operator)
    assert len(panel["shifts"]) == 5
    assert panel["swaps_to_me"] == 1

    leave = Leave.objects.get()
    assert (leave.person, leave.status) == (operator, LeaveStatus.PENDING)
    assert leave.start_date > monday + dt.timedelta(days=13)  # after the published roster
    swap = Swap.objects.get()
    assert swap.status == SwapStatus.OFFERED
    assert swap.offered_to == operator
    assert swap.shift.start > swap.created_at
    # The administrator plans both teams and is asked to decide the leave.
    assert selectors.home_panel(demo_users["admin"])["pending_leave"] == 1
    # The coverage rules hold: the generated roster leaves no warning.
    posts = list(Post.objects.all())
    assert selectors.coverage_warnings(posts, monday, monday + dt.timedelta(days=13)) == []

    seed_schedules_demo(demo_users)
    assert _counts() == counts


def test_demo_without_the_operator_still_makes_the_roster(demo_users):
    users = {k: v for k, v in demo_users.items() if k != "operator"}
    seed_schedules_demo(users)
    assert Post.objects.count() == 2
    assert Shift.objects.filter(person=demo_users["clerk"]).count() == 10
    assert not Leave.objects.exists()
    assert not Swap.objects.exists()
