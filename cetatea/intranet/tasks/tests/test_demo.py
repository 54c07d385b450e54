"""The tasks' demo data: built from the demo accounts of seed_demo, once."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from cetatea.intranet.tasks import selectors
from cetatea.intranet.tasks.choices import Status
from cetatea.intranet.tasks.demo import BOARD_NAME, seed_tasks_demo
from cetatea.intranet.tasks.models import Board, ChecklistItem, Comment, Mention, Task


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
        for model in (Board, Task, ChecklistItem, Comment, Mention)
    }


def test_demo_board_has_tasks_in_every_column_once(
    demo_users, mailoutbox, django_capture_on_commit_callbacks
):
    from cetatea.cases.services import case_create

    case = case_create(
        channel="phone",
        category="ROAD_POTHOLE",
        title="Groapă mare în carosabil",
        description="Groapă adâncă pe Calea Moților, în dreptul nr. 12.",
        actor=demo_users["operator"],
        latitude=46.068,
        longitude=23.575,
    )
    with django_capture_on_commit_callbacks(execute=True):
        seed_tasks_demo(demo_users)
    # Only the mention is e-mailed (to the crew): no "task for you" for each demo task.
    assert [m.to for m in mailoutbox] == [[demo_users["crew"].email]]
    counts = _counts()
    board = Board.objects.get(name=BOARD_NAME)
    assert board.department == case.department
    assert counts["Board"] == 1
    assert 6 <= counts["Task"] <= 10
    statuses = set(Task.objects.values_list("status", flat=True))
    assert statuses == {Status.TODO, Status.IN_PROGRESS, Status.DONE}
    now = timezone.now()
    overdue = [t for t in Task.objects.all() if t.is_overdue]
    assert len(overdue) == 1
    assert Task.objects.filter(status=Status.TODO, due_at__gt=now).exists()
    assert not Task.objects.filter(status=Status.DONE, completed_at__isnull=True).exists()
    assigned = set(Task.objects.exclude(assignee=None).values_list("assignee__username", flat=True))
    assert assigned >= {"staff", "crew", "manager"}
    checklist = ChecklistItem.objects.all()
    assert checklist.count() == 5 and checklist.filter(done=True).count() == 2
    mention = Mention.objects.get()
    assert mention.user == demo_users["crew"] and mention.seen_at is None
    assert selectors.home_panel(demo_users["crew"])["mentions"]
    from_case = Task.objects.get(case=case)
    assert from_case.assignee == demo_users["crew"]
    assert case.reference in from_case.title
    # Every assignee may open the board.
    for task in Task.objects.exclude(assignee=None).select_related("assignee"):
        assert selectors.is_board_member(task.assignee, board)

    seed_tasks_demo(demo_users)
    assert _counts() == counts


def test_demo_without_cases_or_a_manager_skips_those_parts(demo_users):
    users = {k: v for k, v in demo_users.items() if k != "manager"}
    seed_tasks_demo(users)
    assert Board.objects.count() == 1
    assert not Task.objects.exclude(case=None).exists()
    assert Task.objects.filter(assignee=None).count() == 2  # the manager's task has nobody
    # The creator wrote the comment mentioning the crew.
    assert Mention.objects.get().user == demo_users["crew"]
    seed_tasks_demo(users)
    assert Board.objects.count() == 1
