"""Who sees a board and its tasks: its department, its team, its listed members; nobody else."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.urls import reverse

from cetatea.intranet.tasks import selectors, services
from cetatea.intranet.tasks.tests.conftest import make_task

pytestmark = pytest.mark.django_db


def test_department_staff_see_the_department_board(office):
    assert selectors.access_board(office["staff"], office["board"].pk) == office["board"]


def test_team_member_sees_the_team_board_but_not_the_department_one(office):
    assert selectors.access_board(office["crew"], office["crew_board"].pk)
    with pytest.raises(Http404):
        selectors.access_board(office["crew"], office["board"].pk)


def test_other_department_cannot_see_board_or_task(office):
    task = make_task(office["board"], office["staff"])
    with pytest.raises(Http404):
        selectors.access_board(office["operator"], office["board"].pk)
    with pytest.raises(Http404):
        selectors.access_task(office["operator"], task.pk)
    assert office["board"] not in selectors.boards_of(office["operator"])


def test_citizen_and_anonymous_are_refused(office, client):
    with pytest.raises(PermissionDenied):
        selectors.access_board(office["citizen"], office["board"].pk)
    response = client.get(reverse("tasks:board", args=[office["board"].pk]))
    assert response.status_code in (302, 403)


def test_explicit_member_sees_the_board(office):
    services.board_member_add(
        actor=office["manager"], board_id=office["board"].pk, username="revenue"
    )
    assert selectors.access_board(office["revenue"], office["board"].pk)
    assert office["board"] in selectors.boards_of(office["revenue"])


def test_only_creator_or_manager_changes_members(office):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.board_member_add(
            actor=office["staff"], board_id=office["board"].pk, username="revenue"
        )


def test_board_for_another_department_is_refused(office):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        services.board_create(actor=office["operator"], name="X", department_id=office["roads"].pk)
    assert "department" in exc.value.message_dict


def test_pages_of_a_foreign_board_answer_404(office, client):
    task = make_task(office["board"], office["staff"])
    client.force_login(office["operator"])
    for url in [
        reverse("tasks:board", args=[office["board"].pk]),
        reverse("tasks:board_list", args=[office["board"].pk]),
        reverse("tasks:task_create", args=[office["board"].pk]),
        reverse("tasks:task", args=[task.pk]),
    ]:
        assert client.get(url).status_code == 404, url
    response = client.post(
        reverse("tasks:task_move", args=[task.pk]), {"version": task.version, "status": "done"}
    )
    assert response.status_code == 404
    response = client.post(reverse("tasks:comment_add", args=[task.pk]), {"body": "hello"})
    assert response.status_code == 404
    task.refresh_from_db()
    assert task.status == "todo" and not task.comments.exists()
    index = client.get(reverse("tasks:index"))
    assert "Drumuri 2026" not in index.content.decode()


def test_foreign_attachment_is_not_served(office, client):
    task = make_task(office["board"], office["staff"])
    row = services.attachment_add(
        actor=office["staff"],
        task_id=task.pk,
        file=SimpleUploadedFile("note.txt", b"secret plan", content_type="text/plain"),
    )
    client.force_login(office["operator"])
    assert client.get(reverse("tasks:attachment", args=[row.pk])).status_code == 404
    client.force_login(office["staff"])
    response = client.get(reverse("tasks:attachment", args=[row.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"secret plan"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]


def test_assignee_must_be_a_board_member(office):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        make_task(office["board"], office["staff"], assignee=office["operator"])
    assert "assignee" in exc.value.message_dict


def test_member_list_has_department_team_and_listed_people(office):
    services.board_member_add(
        actor=office["manager"], board_id=office["board"].pk, username="revenue"
    )
    names = {u.username for u in selectors.board_members(office["board"])}
    assert names == {"staff", "manager", "revenue"}
    crew_names = {u.username for u in selectors.board_members(office["crew_board"])}
    assert crew_names == {"crew"}
