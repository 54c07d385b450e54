"""Shifts, roster generation, overlaps, DST and coverage warnings."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from cetatea.intranet.schedules import selectors, services
from cetatea.intranet.schedules.choices import LeaveStatus
from cetatea.intranet.schedules.models import CoverageRule, Leave, Shift, ShiftPattern
from cetatea.intranet.schedules.tests.conftest import BUC, MONDAY, at, make_shift

TUESDAY = MONDAY + dt.timedelta(days=1)


def _pattern(sched, *people, name="Morning", weekdays="01234", start=8, end=16, post=None):
    pattern = ShiftPattern.objects.create(
        team=sched["counters"],
        post=post or sched["counter1"],
        name=name,
        weekdays=weekdays,
        start_time=dt.time(start),
        end_time=dt.time(end),
    )
    pattern.members.add(*people)
    return pattern


def test_generating_twice_does_not_duplicate_and_keeps_edited_shifts(sched):
    clerk, staff, planner = sched["clerk"], sched["staff"], sched["planner"]
    _pattern(sched, clerk, staff)
    sunday = MONDAY + dt.timedelta(days=6)
    first = services.roster_generate(
        actor=planner, team=sched["counters"], first=MONDAY, last=sunday
    )
    assert (first.created, first.kept, first.skipped) == (10, 0, [])
    shifts = Shift.objects.filter(team=sched["counters"]).order_by("start", "person_id")
    assert shifts.count() == 10 and not any(s.published for s in shifts)
    monday_clerk = shifts.get(person=clerk, pattern_day=MONDAY)
    assert monday_clerk.start == at(MONDAY, 8) and monday_clerk.end == at(MONDAY, 16)
    # A planner shortens one shift and cancels another.
    services.shift_save(
        actor=planner,
        team=sched["counters"],
        post=sched["counter1"],
        person=clerk,
        start=at(MONDAY, 8),
        end=at(MONDAY, 12),
        shift=monday_clerk,
        version=monday_clerk.version,
    )
    cancelled = shifts.get(person=staff, pattern_day=TUESDAY)
    services.shift_cancel(actor=planner, shift=cancelled)

    again = services.roster_generate(
        actor=planner, team=sched["counters"], first=MONDAY, last=sunday
    )
    assert (again.created, again.kept) == (0, 10)
    assert Shift.objects.filter(team=sched["counters"]).count() == 10
    monday_clerk.refresh_from_db()
    assert monday_clerk.end == at(MONDAY, 12)
    cancelled.refresh_from_db()
    assert cancelled.is_cancelled


def test_generation_skips_a_member_on_leave_or_already_working(sched):
    clerk, staff, planner = sched["clerk"], sched["staff"], sched["planner"]
    _pattern(sched, clerk, staff)
    Leave.objects.create(
        person=clerk,
        start_date=MONDAY,
        end_date=TUESDAY,
        kind="annual",
        status=LeaveStatus.APPROVED,
        created_at=at(MONDAY, 7),
    )
    make_shift(sched["call_post"], staff, at(MONDAY, 6), at(MONDAY, 9))
    result = services.roster_generate(
        actor=planner, team=sched["counters"], first=MONDAY, last=TUESDAY
    )
    assert result.created == 1  # staff on Tuesday
    assert len(result.skipped) == 3
    assert sum("approved leave" in line for line in result.skipped) == 2
    assert sum("already has a shift" in line for line in result.skipped) == 1


def test_a_shift_overlapping_another_of_the_same_person_is_refused(sched):
    clerk, planner, counters, post = (
        sched["clerk"],
        sched["planner"],
        sched["counters"],
        sched["counter1"],
    )
    services.shift_save(
        actor=planner,
        team=counters,
        post=post,
        person=clerk,
        start=at(TUESDAY, 8),
        end=at(TUESDAY, 16),
    )
    with pytest.raises(ValidationError) as error:
        services.shift_save(
            actor=planner,
            team=counters,
            post=post,
            person=clerk,
            start=at(TUESDAY, 15),
            end=at(TUESDAY, 20),
        )
    assert "already has a shift then" in str(error.value.message_dict["person"])
    assert "13.01.2026 08:00–16:00" in str(error.value.message_dict["person"])
    # Back to back is not an overlap; another person at the same time is fine.
    services.shift_save(
        actor=planner,
        team=counters,
        post=post,
        person=clerk,
        start=at(TUESDAY, 16),
        end=at(TUESDAY, 20),
    )
    services.shift_save(
        actor=planner,
        team=counters,
        post=post,
        person=sched["staff"],
        start=at(TUESDAY, 8),
        end=at(TUESDAY, 16),
    )
    assert Shift.objects.filter(person=clerk).count() == 2


def test_a_shift_over_approved_leave_is_refused(sched):
    Leave.objects.create(
        person=sched["clerk"],
        start_date=TUESDAY,
        end_date=TUESDAY,
        kind="medical",
        status=LeaveStatus.APPROVED,
        created_at=at(MONDAY, 7),
    )
    with pytest.raises(ValidationError) as error:
        services.shift_save(
            actor=sched["planner"],
            team=sched["counters"],
            post=sched["counter1"],
            person=sched["clerk"],
            start=at(MONDAY, 22),
            end=at(TUESDAY, 6),
        )
    assert "approved leave from 13.01.2026 to 13.01.2026" in str(error.value)


def test_an_edit_made_on_an_old_version_is_refused(sched, client):
    planner = sched["planner"]
    shift = make_shift(sched["counter1"], sched["clerk"], at(TUESDAY, 8), at(TUESDAY, 16))
    client.force_login(planner)
    url = reverse("schedules:shift", args=[shift.pk])
    form = {
        "post": sched["counter1"].pk,
        "person": sched["clerk"].pk,
        "day": "2026-01-13",
        "start_time": "09:00",
        "end_time": "17:00",
        "version": shift.version,
    }
    assert client.post(url, form).status_code == 302
    shift.refresh_from_db()
    assert (shift.start, shift.end, shift.version) == (at(TUESDAY, 9), at(TUESDAY, 17), 2)
    # A second planner submits a form they opened before that save: nothing is lost.
    response = client.post(url, {**form, "start_time": "10:00", "version": 1})
    assert response.status_code == 400
    assert "Someone else changed this shift" in response.content.decode()
    shift.refresh_from_db()
    assert shift.start == at(TUESDAY, 9)


@pytest.mark.parametrize(
    ("saturday", "hours"),
    [(dt.date(2026, 3, 28), 7), (dt.date(2026, 10, 24), 9)],
    ids=["spring-forward", "fall-back"],
)
def test_a_night_shift_across_a_dst_change_lasts_seven_or_nine_hours(sched, saturday, hours):
    _pattern(sched, sched["clerk"], name="Night", weekdays="5", start=22, end=6)
    _pattern(sched, sched["staff"], name="Sunday", weekdays="6", start=8, end=16)
    monday = saturday - dt.timedelta(days=5)
    result = services.roster_generate(
        actor=sched["planner"],
        team=sched["counters"],
        first=monday,
        last=saturday + dt.timedelta(days=1),
    )
    assert result.created == 2
    night = Shift.objects.get(person=sched["clerk"])
    assert night.end - night.start == dt.timedelta(hours=hours)
    assert night.start.astimezone(BUC).hour == 22 and night.end.astimezone(BUC).hour == 6
    sunday = Shift.objects.get(person=sched["staff"])
    assert sunday.end - sunday.start == dt.timedelta(hours=8)
    assert sunday.start.astimezone(BUC).time() == dt.time(8)
    # The week's roster still has seven day columns and shows both shifts in place.
    data = selectors.roster(
        sched["planner"], sched["counters"], monday, saturday + dt.timedelta(days=1)
    )
    assert len(data.days) == 7
    clerk_row = next(r for r in data.rows if r.person == sched["clerk"])
    assert [len(c.shifts) for c in clerk_row.cells] == [0, 0, 0, 0, 0, 1, 0]


def test_coverage_warnings_name_the_post_and_the_hours_below_minimum(sched):
    post, clerk, staff = sched["counter1"], sched["clerk"], sched["staff"]
    # Tuesday: clerk all day, staff 08–12 and 13–16 -> one person 12:00–13:00.
    make_shift(post, clerk, at(TUESDAY, 8), at(TUESDAY, 16))
    make_shift(post, staff, at(TUESDAY, 8), at(TUESDAY, 12))
    make_shift(post, staff, at(TUESDAY, 13), at(TUESDAY, 16))
    # Wednesday: clerk 08–16 only -> one person all day; staff 10–12 -> two then.
    wednesday = TUESDAY + dt.timedelta(days=1)
    make_shift(post, clerk, at(wednesday, 8), at(wednesday, 16))
    make_shift(post, staff, at(wednesday, 10), at(wednesday, 12))
    warnings = selectors.coverage_warnings([post], MONDAY, wednesday)
    got = [(w.start, w.end, w.staffed, w.minimum) for w in warnings]
    assert got == [
        (at(MONDAY, 8), at(MONDAY, 16), 0, 2),
        (at(TUESDAY, 12), at(TUESDAY, 13), 1, 2),
        (at(wednesday, 8), at(wednesday, 10), 1, 2),
        (at(wednesday, 12), at(wednesday, 16), 1, 2),
    ]
    assert str(warnings[0]) == "Registry counter 1 unstaffed Mon 12.01 08:00–16:00 (needs 2)"
    assert str(warnings[1]) == "Registry counter 1 under minimum Tue 13.01 12:00–13:00: 1 of 2"
    # Cancelled and unassigned shifts do not count; weekends have no rule.
    Shift.objects.filter(person=staff, start=at(wednesday, 10)).update(is_cancelled=True)
    make_shift(post, None, at(wednesday, 10), at(wednesday, 12))
    assert len(selectors.coverage_warnings([post], wednesday, wednesday)) == 1
    assert selectors.coverage_warnings([post], dt.date(2026, 1, 17), dt.date(2026, 1, 18)) == []


def test_a_night_coverage_window_runs_into_the_next_day(sched):
    post = sched["call_post"]
    CoverageRule.objects.create(
        post=post, weekdays="0123456", start_time=dt.time(22), end_time=dt.time(6), min_staff=1
    )
    make_shift(post, sched["operator"], at(MONDAY, 22), at(TUESDAY, 2))
    warnings = selectors.coverage_warnings([post], MONDAY, MONDAY)
    assert [(w.start, w.end, w.staffed) for w in warnings] == [(at(TUESDAY, 2), at(TUESDAY, 6), 0)]


@time_machine.travel(at(MONDAY, 9), tick=False)
def test_the_week_page_shows_drafts_to_planners_only_and_the_warnings(
    sched, client, django_assert_max_num_queries
):
    post = sched["counter1"]
    make_shift(post, sched["clerk"], at(TUESDAY, 8), at(TUESDAY, 16))
    make_shift(post, sched["staff"], at(TUESDAY, 8), at(TUESDAY, 12), published=False)
    url = reverse("schedules:week", args=[sched["counters"].pk]) + "?start=2026-01-14"
    client.force_login(sched["planner"])
    client.cookies["django_language"] = "en"
    with django_assert_max_num_queries(20):
        page = client.get(url).content.decode()
    assert "12.01" in page and "18.01" in page  # normalised to the week's Monday
    assert "[draft]" in page and "1 draft shift" in page
    assert "Registry counter 1 under minimum Tue 13.01 12:00–16:00: 1 of 2" in page
    assert '<th scope="row">' in page and "Add a shift" in page

    client.force_login(sched["clerk"])
    page = client.get(url).content.decode()
    assert "[draft]" not in page and "Add a shift" not in page
    # The team sees coverage of the published roster: the draft does not count for it.
    assert "Registry counter 1 under minimum Tue 13.01 08:00–16:00: 1 of 2" in page

    month = client.get(reverse("schedules:month", args=[sched["counters"].pk]) + "?month=2026-01")
    assert month.status_code == 200 and "31.01" in month.content.decode()


def test_publishing_makes_the_week_visible_and_mails_each_person(
    sched, client, mailoutbox, django_capture_on_commit_callbacks
):
    sched["clerk"].email = "clerk@example.ro"
    sched["clerk"].save(update_fields=["email"])
    post = sched["counter1"]
    draft = make_shift(post, sched["clerk"], at(TUESDAY, 8), at(TUESDAY, 16), published=False)
    later = make_shift(
        post,
        sched["clerk"],
        at(TUESDAY + dt.timedelta(days=7), 8),
        at(TUESDAY + dt.timedelta(days=7), 16),
        published=False,
    )
    client.force_login(sched["planner"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("schedules:publish", args=[sched["counters"].pk]),
            {"first": "2026-01-12", "last": "2026-01-18", "notify": "1"},
        )
    assert response.status_code == 302
    draft.refresh_from_db()
    later.refresh_from_db()
    assert draft.published and not later.published
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["clerk@example.ro"]
    assert "13.01.2026 08:00–16:00" in mailoutbox[0].body
