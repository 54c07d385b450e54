"""Fixtures of the overview's page tests: the English interface, a small city."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cetatea.catalog.models import Category, StaffProfile
from cetatea.core import roles

TZ = ZoneInfo("Europe/Bucharest")
START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 31)


@pytest.fixture(autouse=True)
def english_interface(request):
    """The pages are asserted in English (Romanian is the default)."""
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies["django_language"] = "en"


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=TZ)


def file_case(when: dt.datetime, **kwargs):
    from conftest import make_case

    with time_machine.travel(when, tick=False):
        return make_case(**kwargs)


def change_status(case, when: dt.datetime, status: str, actor):
    from cetatea.cases.services import case_change_status

    with time_machine.travel(when, tick=False):
        return case_change_status(case_id=case.pk, status=status, actor=actor)


@pytest.fixture
def viewers(personas, catalog):
    """A leadership account, and the manager of Roads (personas' manager)."""
    from conftest import make_user

    StaffProfile.objects.create(user=personas["manager"], department=catalog["roads"])
    return {
        "leader": make_user("leader", roles.LEADERSHIP),
        "admin": personas["admin"],
        "manager": personas["manager"],
        "staff": personas["staff"],
    }


@pytest.fixture
def city(catalog, personas):
    """March 2026: three potholes (Roads, in the Citadel; one fixed), and two street
    lights (Public relations, no place; one by phone). Counted by ``rebuild``."""
    from cetatea.insights.refresh import rebuild

    light = Category.objects.create(
        code="LIGHT",
        name_ro="Iluminat",
        name_en="Street light",
        department=catalog["public"],
        target_hours=240,
    )
    staff = personas["staff"]
    potholes = [
        file_case(at(day), category="POTHOLE", latitude=46.07, longitude=23.57, title=f"P{day}")
        for day in (3, 4, 5)
    ]
    change_status(potholes[0], at(6), "fixed", staff)
    lights = [
        file_case(at(10), category="LIGHT", title="L1"),
        file_case(at(11), category="LIGHT", title="L2", channel="phone"),
    ]
    rebuild()
    return {"potholes": potholes, "lights": lights, "light": light, **catalog}
