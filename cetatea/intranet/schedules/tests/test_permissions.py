"""Who sees and edits which roster, shift, leave and swap; the home panel."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from cetatea.intranet.schedules import selectors, services
from cetatea.intranet.schedules.tests.conftest import MONDAY, at, make_shift

TUESDAY = MONDAY + dt.timedelta(days=1)


def test_anonymous_and_citizens_are_kept_out(sched, client):
    url = reverse("schedules:index")
    assert client.get(url).status_code in (302, 403)
    client.force_login(sched["citizen"])
    assert client.get(url).status_code == 403


def test_a_team_roster_is_closed_to_people_outside_the_team(sched, client):
    week = reverse("schedules:week", args=[sched["counters"].pk])
    client.force_login(sched["crew"])  # another department, not a member
    assert client.get(week).status_code == 403
    client.force_login(sched["operator"])  # same department, another team, not a planner
    assert client.get(week).status_code == 403
    client.force_login(sched["clerk"])
    assert client.get(week).status_code == 200
    client.force_login(sched["roads_planner"])  # plans only the roads department's teams
    assert client.get(week).status_code == 403
    assert client.get(reverse("schedules:week", args=[sched["crews"].pk])).status_code == 200


def test_only_planners_of_the_team_edit_generate_and_publish(sched, client):
    team = sched["counters"]
    urls = [
        ("get", reverse("schedules:shift_new", args=[team.pk]), {}),
        (
            "post",
            reverse("schedules:generate", args=[team.pk]),
            {"first": "2026-01-12", "last": "2026-01-18"},
        ),
        (
            "post",
            reverse("schedules:publish", args=[team.pk]),
            {"first": "2026-01-12", "last": "2026-01-18"},
        ),
    ]
    for user, expected in [("clerk", 403), ("roads_planner", 403), ("planner", None)]:
        client.force_login(sched[user])
        for method, url, data in urls:
            status = getattr(client, method)(url, data).status_code
            assert status != 403 if expected is None else status == expected, (user, url)
    with pytest.raises(PermissionDenied):
        services.shift_save(
            actor=sched["roads_planner"],
            team=team,
            post=sched["counter1"],
            person=None,
            start=at(TUESDAY, 8),
            end=at(TUESDAY, 16),
        )


def test_a_draft_is_seen_by_its_planner_and_its_holder_only(sched, client):
    draft = make_shift(
        sched["counter1"], sched["clerk"], at(TUESDAY, 8), at(TUESDAY, 16), published=False
    )
    url = reverse("schedules:shift", args=[draft.pk])
    for user, status in [("clerk", 200), ("planner", 200), ("staff", 403), ("crew", 403)]:
        client.force_login(sched[user])
        assert client.get(url).status_code == status, user
    draft.published = True
    draft.save(update_fields=["published"])
    client.force_login(sched["staff"])
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 403  # seeing is not editing


def test_leave_and_swaps_are_private_to_the_people_involved(sched, client):
    leave = services.leave_request(
        person=sched["clerk"], start_date=TUESDAY, end_date=TUESDAY, kind="medical"
    )
    url = reverse("schedules:leave_detail", args=[leave.pk])
    for user, status in [("clerk", 200), ("planner", 200), ("staff", 403), ("roads_planner", 403)]:
        client.force_login(sched[user])
        assert client.get(url).status_code == status, user
    client.force_login(sched["staff"])
    assert client.get(reverse("schedules:leave_pending")).status_code == 403
    client.force_login(sched["planner"])
    assert "13.01.2026" in client.get(reverse("schedules:leave_pending")).content.decode()


@time_machine.travel(at(MONDAY, 9), tick=False)
def test_the_home_panel_lists_my_shifts_this_week_and_what_waits_for_a_planner(
    sched, django_assert_max_num_queries
):
    from django.template.loader import render_to_string

    clerk, post = sched["clerk"], sched["counter1"]
    make_shift(post, clerk, at(TUESDAY, 8), at(TUESDAY, 16))
    make_shift(
        post, clerk, at(TUESDAY + dt.timedelta(days=7), 8), at(TUESDAY + dt.timedelta(days=7), 16)
    )
    make_shift(post, clerk, at(TUESDAY, 18), at(TUESDAY, 20), published=False)
    services.leave_request(person=clerk, start_date=TUESDAY, end_date=TUESDAY, kind="annual")
    with django_assert_max_num_queries(6):
        panel = selectors.home_panel(clerk)
    assert [s.start for s in panel["shifts"]] == [at(TUESDAY, 8)]
    assert panel["pending_leave"] == 0
    html = render_to_string("schedules/_home_panel.html", {"panel": panel})
    assert "<section aria-labelledby=" in html and "<h2" in html and "13.01 08:00" in html
    planner_panel = selectors.home_panel(sched["planner"])
    assert planner_panel["pending_leave"] == 1 and planner_panel["shifts"] == []


@time_machine.travel(at(MONDAY, 9), tick=False)
def test_every_page_renders_with_one_heading_and_the_nav_marked(
    sched, client, django_assert_max_num_queries
):
    from cetatea.intranet.schedules.models import ShiftPattern

    team = sched["counters"]
    shift = make_shift(sched["counter1"], sched["planner"], at(TUESDAY, 8), at(TUESDAY, 16))
    team.members.add(sched["planner"])
    swap = services.swap_offer(actor=sched["planner"], shift=shift)
    services.swap_accept(actor=sched["clerk"], swap=swap)
    leave = services.leave_request(
        person=sched["clerk"], start_date=TUESDAY, end_date=TUESDAY, kind="annual"
    )
    services.feed_issue(user=sched["planner"])
    pattern = ShiftPattern.objects.create(
        team=team, post=sched["counter1"], name="Morning", start_time="08:00", end_time="16:00"
    )
    pages = [
        reverse("schedules:index"),
        reverse("schedules:week", args=[team.pk]),
        reverse("schedules:month", args=[team.pk]),
        reverse("schedules:shift_new", args=[team.pk]),
        reverse("schedules:shift", args=[shift.pk]),
        reverse("schedules:leave"),
        reverse("schedules:leave_pending"),
        reverse("schedules:leave_detail", args=[leave.pk]),
        reverse("schedules:swaps"),
        reverse("schedules:swap", args=[swap.pk]),
        reverse("schedules:feeds"),
        reverse("schedules:setup", args=[team.pk]),
        reverse("schedules:pattern", args=[team.pk, pattern.pk]),
    ]
    client.force_login(sched["planner"])
    for url in pages:
        with django_assert_max_num_queries(25):
            response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert html.count("<h1") == 1, url
        assert 'aria-current="page">' in html and "<script>" not in html, url
        assert " on" + "click=" not in html, url
