"""Fixtures of the intranet's tests: the personas placed in departments and teams."""

from __future__ import annotations

import pytest

from cetatea.catalog.models import StaffProfile, Team


@pytest.fixture
def staffed(catalog, personas):
    """Roads: staff, crew (team "roads-crew"), manager; public relations: operator, clerk.

    revenue and admin have no department; the citizen has no staff role."""
    roads, public = catalog["roads"], catalog["public"]
    for key, department, extension in (
        ("staff", roads, "201"),
        ("crew", roads, ""),
        ("manager", roads, "210"),
        ("operator", public, "101"),
        ("clerk", public, "102"),
    ):
        StaffProfile.objects.create(
            user=personas[key], department=department, phone_extension=extension
        )
    crew_team = Team.objects.create(
        department=roads, code="roads-crew", name_ro="Echipa drumuri", name_en="Road crew"
    )
    crew_team.members.add(personas["crew"], personas["staff"])
    return {**catalog, **personas, "crew_team": crew_team}
