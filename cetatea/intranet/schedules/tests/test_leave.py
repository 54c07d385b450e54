"""Leave requests, their approval, and the shifts and coverage an approval affects."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cetatea.intranet.schedules import services
from cetatea.intranet.schedules.choices import LeaveStatus, SwapStatus
from cetatea.intranet.schedules.models import Leave, Shift, Swap
from cetatea.intranet.schedules.tests.conftest import MONDAY, at, make_shift

TUESDAY = MONDAY + dt.timedelta(days=1)


def _request(person, first=TUESDAY, last=TUESDAY, kind="annual"):
    return services.leave_request(person=person, start_date=first, end_date=last, kind=kind)


def test_a_request_overlapping_ones_own_pending_or_approved_leave_is_refused(sched):
    clerk = sched["clerk"]
    _request(clerk, MONDAY, TUESDAY)
    with pytest.raises(ValidationError) as error:
        _request(clerk, TUESDAY, TUESDAY + dt.timedelta(days=3))
    assert "already asked for leave from 12.01.2026 to 13.01.2026" in str(error.value)
    with pytest.raises(ValidationError):
        _request(clerk, TUESDAY, MONDAY)
    assert Leave.objects.filter(person=clerk).count() == 1


def test_approving_leave_shows_then_releases_the_shifts_and_their_coverage_gap(sched, client):
    post, clerk, staff, planner = (
        sched["counter1"],
        sched["clerk"],
        sched["staff"],
        sched["planner"],
    )
    shift = make_shift(post, clerk, at(TUESDAY, 8), at(TUESDAY, 16))
    make_shift(post, staff, at(TUESDAY, 8), at(TUESDAY, 16))
    leave = _request(clerk, kind="medical")
    client.force_login(planner)
    client.cookies["django_language"] = "en"
    url = reverse("schedules:leave_detail", args=[leave.pk])
    page = client.get(url).content.decode()
    assert "Shifts during this leave" in page and "08:00–16:00" in page
    assert "Registry counter 1 under minimum Tue 13.01 08:00–16:00: 1 of 2" in page

    response = client.post(url, {"decision": "approve"})
    assert response.status_code == 302
    leave.refresh_from_db()
    shift.refresh_from_db()
    assert leave.status == LeaveStatus.APPROVED and leave.decided_by == planner
    assert shift.person is None and not shift.is_cancelled  # an open shift to fill
    roster = client.get(
        reverse("schedules:week", args=[sched["counters"].pk]) + "?start=2026-01-12"
    )
    assert "Open shifts (nobody assigned)" in roster.content.decode()


def test_refusing_needs_a_reason_and_a_decision_is_taken_once(sched):
    leave = _request(sched["clerk"])
    with pytest.raises(ValidationError) as error:
        services.leave_decide(actor=sched["planner"], leave=leave, approve=False)
    assert "reason" in error.value.message_dict
    services.leave_decide(
        actor=sched["planner"], leave=leave, approve=False, reason="Inventory week"
    )
    with pytest.raises(ValidationError) as error:
        services.leave_decide(actor=sched["planner"], leave=leave, approve=True)
    assert "already decided: Refused" in str(error.value)
    leave.refresh_from_db()
    assert (leave.status, leave.reason) == (LeaveStatus.REFUSED, "Inventory week")


def test_only_approvers_of_the_persons_department_or_team_decide(sched):
    leave = _request(sched["clerk"])
    for outsider in (sched["roads_planner"], sched["staff"]):
        with pytest.raises(PermissionDenied):
            services.leave_decide(actor=outsider, leave=leave, approve=True)
    own = _request(sched["planner"])
    with pytest.raises(PermissionDenied):
        services.leave_decide(actor=sched["planner"], leave=own, approve=True)


def test_leave_over_a_shift_taken_in_a_swap_is_detected_and_releases_it(sched, client):
    import time_machine

    post, clerk, staff, planner = (
        sched["counter1"],
        sched["clerk"],
        sched["staff"],
        sched["planner"],
    )
    shift = make_shift(post, clerk, at(TUESDAY, 8), at(TUESDAY, 16))
    with time_machine.travel(at(MONDAY, 9), tick=False):
        swap = services.swap_offer(actor=clerk, shift=shift, offered_to=staff)
        services.swap_accept(actor=staff, swap=swap)
        services.swap_decide(actor=planner, swap=swap, approve=True)
    shift.refresh_from_db()
    assert shift.person == staff
    leave = _request(staff)
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("schedules:leave_detail", args=[leave.pk])).content.decode()
    assert "taken over in a swap" in page
    released = services.leave_decide(actor=planner, leave=leave, approve=True)
    assert [s.pk for s in released] == [shift.pk]
    shift.refresh_from_db()
    assert shift.person is None


def test_approving_leave_withdraws_open_swaps_of_its_shifts(sched):
    import time_machine

    post, clerk, staff = sched["counter1"], sched["clerk"], sched["staff"]
    mine = make_shift(post, clerk, at(TUESDAY, 8), at(TUESDAY, 16))
    theirs = make_shift(
        post, staff, at(TUESDAY + dt.timedelta(days=1), 8), at(TUESDAY + dt.timedelta(days=1), 16)
    )
    with time_machine.travel(at(MONDAY, 9), tick=False):
        offered = services.swap_offer(actor=clerk, shift=mine)
        taken = services.swap_offer(actor=staff, shift=theirs)
        services.swap_accept(actor=clerk, swap=taken)  # clerk would take Wednesday
    leave = _request(clerk, TUESDAY, TUESDAY + dt.timedelta(days=1))
    services.leave_decide(actor=sched["planner"], leave=leave, approve=True)
    offered.refresh_from_db()
    taken.refresh_from_db()
    assert offered.status == SwapStatus.WITHDRAWN
    assert taken.status == SwapStatus.REFUSED and "on leave" in taken.reason
    assert Shift.objects.get(pk=theirs.pk).person == staff
    assert not Swap.objects.filter(status__in=["offered", "accepted"]).exists()


def test_the_leave_form_shows_errors_next_to_the_fields(sched, client):
    client.force_login(sched["clerk"])
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("schedules:leave"),
        {"start_date": "2026-01-14", "end_date": "2026-01-13", "kind": "annual"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "The last day must not be before the first." in page
    assert 'id="id_end_date_error"' in page and 'role="alert"' in page
    assert 'aria-describedby="id_end_date_error"' in page
    response = client.post(
        reverse("schedules:leave"),
        {"start_date": "2026-01-13", "end_date": "2026-01-14", "kind": "annual"},
    )
    assert response.status_code == 302
    assert "13.01.2026" in client.get(reverse("schedules:leave")).content.decode()
