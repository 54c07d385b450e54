"""Planners set up their team's posts, coverage rules and shift patterns."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cetatea.intranet.schedules import services
from cetatea.intranet.schedules.models import CoverageRule, Post, ShiftPattern


def test_a_planner_adds_a_post_a_rule_and_a_pattern_from_the_setup_page(sched, client):
    team = sched["counters"]
    url = reverse("schedules:setup", args=[team.pk])
    client.force_login(sched["planner"])
    client.cookies["django_language"] = "en"
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"form": "post", "post-name_ro": "Ghișeul 2", "post-code": "counter-2"}
    )
    assert response.status_code == 302
    post = Post.objects.get(code="counter-2")
    assert post.team == team
    response = client.post(
        url,
        {
            "form": "rule",
            "rule-post": post.pk,
            "rule-weekdays": ["0", "2"],
            "rule-start_time": "08:00",
            "rule-end_time": "12:00",
            "rule-min_staff": "1",
        },
    )
    assert response.status_code == 302
    assert CoverageRule.objects.get(post=post).weekdays == "02"
    response = client.post(
        url,
        {
            "form": "pattern",
            "pattern-name": "Morning",
            "pattern-post": post.pk,
            "pattern-weekdays": ["0", "1", "2", "3", "4"],
            "pattern-start_time": "08:00",
            "pattern-end_time": "16:00",
            "pattern-members": [sched["clerk"].pk],
            "pattern-is_active": "on",
        },
    )
    assert response.status_code == 302
    pattern = ShiftPattern.objects.get()
    assert list(pattern.members.all()) == [sched["clerk"]]
    page = client.get(url).content.decode()
    assert "Mon, Wed" in page and "Mon–Fri" in page and "Morning" in page
    # A duplicate code: the form says so and keeps what was typed.
    response = client.post(url, {"form": "post", "post-name_ro": "Alt", "post-code": "counter-2"})
    assert response.status_code == 400
    assert "already used by another post" in response.content.decode()


def test_patterns_take_only_team_members_and_only_planners_set_up(sched):
    team = sched["counters"]
    kwargs = dict(
        team=team,
        post=sched["counter1"],
        name="Morning",
        weekdays=["0"],
        start_time=dt.time(8),
        end_time=dt.time(16),
    )
    with pytest.raises(ValidationError) as error:
        services.pattern_save(actor=sched["planner"], members=[sched["operator"]], **kwargs)
    assert "Only members of the team" in str(error.value)
    with pytest.raises(ValidationError):
        services.pattern_save(actor=sched["planner"], members=[], **{**kwargs, "weekdays": []})
    with pytest.raises(PermissionDenied):
        services.pattern_save(actor=sched["clerk"], members=[], **kwargs)
    with pytest.raises(PermissionDenied):
        services.post_create(actor=sched["roads_planner"], team=team, name_ro="X", code="x")
