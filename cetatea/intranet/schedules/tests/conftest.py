"""Schedules fixtures: two teams of the "public" department, a counter post with a
coverage rule (Mon–Fri 08–16, at least 2), a planner, and helpers for shifts."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission

BUC = ZoneInfo("Europe/Bucharest")
MONDAY = dt.date(2026, 1, 12)  # a plain winter week, Mon 12 – Sun 18 January 2026


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=BUC)


def grant(user, *perms: str):
    """Give permissions directly (roles.py gives them to groups; tests do not depend on it)
    and return a fresh user object, so the permission cache is rebuilt."""
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return type(user).objects.get(pk=user.pk)


def make_shift(post, person, start, end, *, published=True, **extra):
    from cetatea.intranet.schedules.models import Shift

    return Shift.objects.create(
        team=post.team, post=post, person=person, start=start, end=end, published=published, **extra
    )


@pytest.fixture
def sched(catalog, personas):
    from cetatea.catalog.models import StaffProfile, Team
    from cetatea.intranet.schedules.models import CoverageRule, Post

    public, roads = catalog["public"], catalog["roads"]
    counters = Team.objects.create(
        department=public, code="counters", name_ro="Ghișee", name_en="Counters"
    )
    calls = Team.objects.create(
        department=public, code="calls", name_ro="Call center", name_en="Call centre"
    )
    crews = Team.objects.create(
        department=roads, code="crews", name_ro="Echipe", name_en="Field crews"
    )
    clerk, staff, operator = personas["clerk"], personas["staff"], personas["operator"]
    counters.members.add(clerk, staff)
    calls.members.add(operator)
    crews.members.add(personas["crew"])
    for user, department in [
        (clerk, public),
        (staff, public),
        (operator, public),
        (personas["manager"], public),
        (personas["crew"], roads),
    ]:
        StaffProfile.objects.create(user=user, department=department)
    counter1 = Post.objects.create(
        team=counters,
        code="counter-1",
        name_ro="Ghișeul 1",
        name_en="Registry counter 1",
    )
    call_post = Post.objects.create(
        team=calls, code="call-centre", name_ro="Call center", name_en="Call centre"
    )
    CoverageRule.objects.create(
        post=counter1,
        weekdays="01234",
        start_time=dt.time(8),
        end_time=dt.time(16),
        min_staff=2,
    )
    planner = grant(personas["manager"], "schedules.manage_roster", "schedules.approve_leave")
    # A planner of another department: plans the field crews only.
    roads_planner = grant(personas["admin"], "schedules.manage_roster", "schedules.approve_leave")
    StaffProfile.objects.create(user=roads_planner, department=roads)
    return {
        **personas,
        "counters": counters,
        "calls": calls,
        "crews": crews,
        "counter1": counter1,
        "call_post": call_post,
        "planner": planner,
        "roads_planner": roads_planner,
    }
