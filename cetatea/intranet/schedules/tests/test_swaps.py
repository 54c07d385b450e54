"""Swaps: offer, accept, approve; overlaps of the taker; concurrent accepts."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from cetatea.intranet.schedules import services
from cetatea.intranet.schedules.choices import SwapStatus
from cetatea.intranet.schedules.models import Shift, Swap
from cetatea.intranet.schedules.tests.conftest import MONDAY, at, make_shift

TUESDAY = MONDAY + dt.timedelta(days=1)
NOW = at(MONDAY, 9)


@pytest.fixture
def shift(sched):
    return make_shift(sched["counter1"], sched["clerk"], at(TUESDAY, 8), at(TUESDAY, 16))


@time_machine.travel(NOW, tick=False)
def test_offer_accept_and_approve_moves_the_shift_to_the_colleague(sched, shift, client):
    clerk, staff, planner = sched["clerk"], sched["staff"], sched["planner"]
    client.force_login(clerk)
    response = client.post(
        reverse("schedules:shift_offer", args=[shift.pk]),
        {"offered_to": staff.pk, "note": "Doctor"},
    )
    swap = Swap.objects.get()
    assert response.status_code == 302 and swap.status == SwapStatus.OFFERED

    client.force_login(staff)
    client.cookies["django_language"] = "en"
    assert (
        "Take this shift" in client.get(reverse("schedules:swap", args=[swap.pk])).content.decode()
    )
    client.post(reverse("schedules:swap", args=[swap.pk]), {"action": "accept"})
    swap.refresh_from_db()
    assert swap.status == SwapStatus.ACCEPTED and swap.taker == staff
    assert Shift.objects.get(pk=shift.pk).person == clerk  # not yet: a planner confirms

    client.force_login(planner)
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("schedules:swap", args=[swap.pk]), {"action": "decide", "decision": "approve"}
    )
    assert response.status_code == 302
    swap.refresh_from_db()
    shift.refresh_from_db()
    assert swap.status == SwapStatus.APPROVED and swap.decided_by == planner
    assert shift.person == staff and shift.version == 2


@time_machine.travel(NOW, tick=False)
def test_a_swap_that_would_overlap_the_takers_shifts_is_refused(sched, shift):
    staff = sched["staff"]
    make_shift(sched["call_post"], staff, at(TUESDAY, 14), at(TUESDAY, 18))
    swap = services.swap_offer(actor=sched["clerk"], shift=shift)
    with pytest.raises(ValidationError) as error:
        services.swap_accept(actor=staff, swap=swap)
    assert "already has a shift then" in str(error.value)
    swap.refresh_from_db()
    assert swap.status == SwapStatus.OFFERED and swap.taker is None


@time_machine.travel(NOW, tick=False)
def test_the_setting_approves_swaps_without_a_planner(sched, shift, settings):
    settings.CETATEA_SCHEDULES_AUTO_APPROVE_SWAPS = True
    swap = services.swap_offer(actor=sched["clerk"], shift=shift)
    services.swap_accept(actor=sched["staff"], swap=swap)
    swap.refresh_from_db()
    shift.refresh_from_db()
    assert swap.status == SwapStatus.APPROVED and shift.person == sched["staff"]


@time_machine.travel(NOW, tick=False)
def test_offers_are_limited_to_ones_own_published_future_shift_once(sched, shift):
    clerk, staff = sched["clerk"], sched["staff"]
    with pytest.raises(PermissionDenied):
        services.swap_offer(actor=staff, shift=shift)
    draft = make_shift(sched["counter1"], clerk, at(TUESDAY, 18), at(TUESDAY, 20), published=False)
    with pytest.raises(ValidationError):
        services.swap_offer(actor=clerk, shift=draft)
    with pytest.raises(ValidationError):  # not a member of the team
        services.swap_offer(actor=clerk, shift=shift, offered_to=sched["operator"])
    services.swap_offer(actor=clerk, shift=shift)
    with pytest.raises(ValidationError) as error:
        services.swap_offer(actor=clerk, shift=shift)
    assert "already offered" in str(error.value)
    with pytest.raises(PermissionDenied):  # offered to the team; the operator is not in it
        services.swap_accept(actor=sched["operator"], swap=Swap.objects.get())


@time_machine.travel(NOW, tick=False)
def test_a_second_accept_finds_the_shift_taken(sched, shift):
    from conftest import make_user

    third = make_user("third", "department_staff")
    sched["counters"].members.add(third)
    swap = services.swap_offer(actor=sched["clerk"], shift=shift)
    services.swap_accept(actor=sched["staff"], swap=swap)
    with pytest.raises(ValidationError) as error:
        services.swap_accept(actor=third, swap=swap)
    assert "already taken this shift" in str(error.value)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_accepts_only_one_wins(sched):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are tested on PostgreSQL")
    from conftest import make_user

    takers = [sched["staff"]]
    for i in range(3):
        user = make_user(f"taker{i}", "department_staff")
        sched["counters"].members.add(user)
        takers.append(user)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    shift = make_shift(sched["counter1"], sched["clerk"], future, future + dt.timedelta(hours=8))
    swap = services.swap_offer(actor=sched["clerk"], shift=shift)
    barrier = threading.Barrier(len(takers))
    outcomes: list[str] = []

    def worker(user):
        from django.db import connections

        try:
            barrier.wait()
            services.swap_accept(actor=user, swap=swap)
            outcomes.append("won")
        except ValidationError as error:
            outcomes.append(error.code or "invalid")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(u,)) for u in takers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["taken"] * (len(takers) - 1) + ["won"]
    swap.refresh_from_db()
    assert swap.status == SwapStatus.ACCEPTED and swap.taker in takers
