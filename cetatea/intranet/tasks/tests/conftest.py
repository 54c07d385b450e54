"""Boards and staff for the task tests: the roads department, its field crew team, and
people from another department who must not see any of it."""

from __future__ import annotations

import pytest

from cetatea.catalog.models import StaffProfile, Team
from cetatea.intranet.tasks import services


@pytest.fixture
def office(catalog, personas):
    """staff, manager: roads department; crew: the roads crew team only (no profile);
    operator, clerk: public relations; revenue: no department."""
    roads, public = catalog["roads"], catalog["public"]
    for name, department in [
        ("staff", roads),
        ("manager", roads),
        ("operator", public),
        ("clerk", public),
    ]:
        StaffProfile.objects.create(user=personas[name], department=department)
    personas["staff"].email = "staff@example.org"
    personas["staff"].first_name, personas["staff"].last_name = "Ana", "Pop"
    personas["staff"].save()
    personas["crew"].email = "crew@example.org"
    personas["crew"].save()
    crew_team = Team.objects.create(
        department=roads, code="roads-crew", name_ro="Echipa drumuri", name_en="Road crew"
    )
    crew_team.members.add(personas["crew"])
    roads_board = services.board_create(
        actor=personas["manager"], name="Drumuri 2026", department_id=roads.pk
    )
    crew_board = services.board_create(actor=personas["crew"], name="Echipa", team_id=crew_team.pk)
    return {
        **personas,
        "roads": roads,
        "public": public,
        "team": crew_team,
        "board": roads_board,
        "crew_board": crew_board,
    }


def make_task(board, actor, **kwargs):
    kwargs.setdefault("title", "Plombare strada Unirii")
    return services.task_create(actor=actor, board=board, **kwargs)
