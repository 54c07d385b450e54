"""The kanban: moving cards between columns and inside one, without lost updates."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cetatea.intranet.tasks import selectors, services
from cetatea.intranet.tasks.models import Task
from cetatea.intranet.tasks.tests.conftest import make_task

pytestmark = pytest.mark.django_db


def _column(board, status):
    return [t.title for t in next(c for c in selectors.kanban(board) if c.status == status).tasks]


def test_new_tasks_go_to_the_end_of_to_do(office):
    for title in ["A", "B", "C"]:
        make_task(office["board"], office["staff"], title=title)
    assert _column(office["board"], "todo") == ["A", "B", "C"]


def test_move_to_another_column_and_back(office):
    a = make_task(office["board"], office["staff"], title="A")
    make_task(office["board"], office["staff"], title="B")
    a = services.task_move(actor=office["staff"], task_id=a.pk, version=a.version, status="done")
    assert _column(office["board"], "done") == ["A"]
    assert _column(office["board"], "todo") == ["B"]
    assert a.completed_at is not None
    a = services.task_move(
        actor=office["staff"], task_id=a.pk, version=a.version, status="in_progress"
    )
    assert a.completed_at is None
    assert _column(office["board"], "in_progress") == ["A"]


def test_up_down_top_bottom_inside_a_column(office):
    a, b, c = (make_task(office["board"], office["staff"], title=t) for t in "ABC")
    services.task_move(actor=office["staff"], task_id=c.pk, version=c.version, direction="up")
    assert _column(office["board"], "todo") == ["A", "C", "B"]
    a.refresh_from_db()
    services.task_move(actor=office["staff"], task_id=a.pk, version=a.version, direction="down")
    assert _column(office["board"], "todo") == ["C", "A", "B"]
    b.refresh_from_db()
    services.task_move(actor=office["staff"], task_id=b.pk, version=b.version, direction="top")
    assert _column(office["board"], "todo") == ["B", "C", "A"]
    b.refresh_from_db()
    services.task_move(actor=office["staff"], task_id=b.pk, version=b.version, direction="bottom")
    assert _column(office["board"], "todo") == ["C", "A", "B"]


def test_second_move_with_an_old_version_is_refused(office):
    task = make_task(office["board"], office["staff"])
    seen = task.version  # both people opened the board at this version
    services.task_move(actor=office["staff"], task_id=task.pk, version=seen, status="done")
    with pytest.raises(ValidationError) as exc:
        services.task_move(
            actor=office["manager"], task_id=task.pk, version=seen, status="in_progress"
        )
    assert exc.value.code == "stale"
    assert "Ana Pop changed this task" in exc.value.messages[0]
    task.refresh_from_db()
    assert task.status == "done"


def test_edit_after_a_move_by_someone_else_keeps_both_or_refuses(office):
    task = make_task(office["board"], office["staff"])
    seen = task.version
    services.task_move(actor=office["manager"], task_id=task.pk, version=seen, status="done")
    with pytest.raises(ValidationError):
        services.task_update(
            actor=office["staff"],
            task_id=task.pk,
            version=seen,
            title="Renamed",
            description="",
            assignee=None,
            due_at=None,
            priority=2,
        )
    task.refresh_from_db()
    assert (task.title, task.status) == ("Plombare strada Unirii", "done")


def test_move_through_htmx_returns_the_columns(office, client):
    task = make_task(office["board"], office["staff"], title="A")
    client.force_login(office["staff"])
    response = client.post(
        reverse("tasks:task_move", args=[task.pk]),
        {"version": task.version, "status": "in_progress", "direction": "", "from": "board"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "“A” is now in" in body
    assert 'class="kanban"' in body
    assert Task.objects.get(pk=task.pk).status == "in_progress"
    stale = client.post(
        reverse("tasks:task_move", args=[task.pk]),
        {"version": task.version, "status": "done", "from": "board"},
        HTTP_HX_REQUEST="true",
    )
    assert stale.status_code == 409
    assert "changed this task" in stale.content.decode()
    assert Task.objects.get(pk=task.pk).status == "in_progress"


def test_move_without_javascript_redirects_to_the_board(office, client):
    task = make_task(office["board"], office["staff"], title="A")
    client.force_login(office["staff"])
    response = client.post(
        reverse("tasks:task_move", args=[task.pk]),
        {"version": task.version, "status": "done", "from": "board"},
        follow=True,
    )
    assert response.status_code == 200
    assert "“A” is now in" in response.content.decode()


def test_board_page_query_count_does_not_grow(office, client, django_assert_max_num_queries):
    for i in range(30):
        make_task(office["board"], office["staff"], title=f"T{i}", assignee=office["staff"])
    client.force_login(office["staff"])
    with django_assert_max_num_queries(15):
        response = client.get(reverse("tasks:board", args=[office["board"].pk]))
    assert response.status_code == 200
    assert response.content.decode().count('class="task-card') == 30
