"""Every page renders for a member, and the board forms work end to end."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cetatea.intranet.tasks import services
from cetatea.intranet.tasks.models import Board
from cetatea.intranet.tasks.tests.conftest import make_task

pytestmark = pytest.mark.django_db


def test_pages_render_for_a_member(office, client, django_assert_max_num_queries):
    task = make_task(office["board"], office["manager"], assignee=office["staff"])
    services.checklist_add(actor=office["staff"], task_id=task.pk, text="pas 1")
    services.comment_add(actor=office["staff"], task_id=task.pk, body="@manager vezi")
    services.attachment_add(
        actor=office["staff"], task_id=task.pk, file=SimpleUploadedFile("a.txt", b"abc")
    )
    client.force_login(office["manager"])
    board = office["board"]
    for name, args in [
        ("tasks:index", []),
        ("tasks:board_create", []),
        ("tasks:board", [board.pk]),
        ("tasks:board_list", [board.pk]),
        ("tasks:board_settings", [board.pk]),
        ("tasks:task_create", [board.pk]),
        ("tasks:task", [task.pk]),
    ]:
        with django_assert_max_num_queries(20):
            response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
        body = response.content.decode()
        assert 'aria-current="page" href' in body or 'aria-current="page"' in body
        assert "<script>" not in body and " onclick=" not in body


def test_board_settings_only_for_creator_or_manager(office, client):
    client.force_login(office["staff"])
    assert client.get(reverse("tasks:board_settings", args=[office["board"].pk])).status_code == 403


def test_create_a_board_and_add_and_remove_a_member(office, client):
    client.force_login(office["operator"])
    response = client.post(
        reverse("tasks:board_create"),
        {"name": "Relații", "department": office["public"].pk},
    )
    assert response.status_code == 302
    board = Board.objects.get(name="Relații")
    url = reverse("tasks:board_settings", args=[board.pk])
    bad = client.post(url, {"action": "add", "username": "nobody"})
    assert bad.status_code == 400 and 'id="id_username_error"' in bad.content.decode()
    assert client.post(url, {"action": "add", "username": "@Revenue"}).status_code == 302
    assert board.members.filter(username="revenue").exists()
    revenue = office["revenue"]
    assert client.post(url, {"action": "remove", "user": revenue.pk}).status_code == 302
    assert not board.members.filter(pk=revenue.pk).exists()
    # The citizen account cannot be added: it is not staff.
    assert client.post(url, {"action": "add", "username": "citizen"}).status_code == 400


def test_board_for_another_department_through_the_form(office, client):
    client.force_login(office["operator"])
    response = client.post(
        reverse("tasks:board_create"), {"name": "X", "department": office["roads"].pk}
    )
    assert response.status_code == 400
    assert 'id="id_department_error"' in response.content.decode()
    assert not Board.objects.filter(name="X").exists()


def test_archived_board_leaves_the_lists_but_stays_readable(office, client):
    from cetatea.intranet.tasks import selectors

    client.force_login(office["manager"])
    url = reverse("tasks:board_settings", args=[office["board"].pk])
    assert client.post(url, {"action": "archive"}).status_code == 302
    assert office["board"] not in selectors.boards_of(office["staff"])
    client.force_login(office["staff"])
    assert client.get(reverse("tasks:board", args=[office["board"].pk])).status_code == 200
    assert client.post(url, {"action": "unarchive"}).status_code == 403
