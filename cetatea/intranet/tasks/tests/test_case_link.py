"""A task made from a case shows the case's reference, status and due time, read live."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cetatea.cases.services import case_change_status
from cetatea.intranet.tasks.models import Task
from conftest import make_case

pytestmark = pytest.mark.django_db


def _case_facts(page: str) -> str:
    """The task page's line about the linked case."""
    start = page.index('id="task-case"')
    return page[start : page.index("</dd>", start)]


def _from_case(client, board, case):
    url = reverse("tasks:task_create", args=[board.pk]) + f"?case={case.pk}"
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    data = {
        "title": form["title"].value(),
        "priority": "2",
        "idempotency_key": str(form["idempotency_key"].value()),
        "case": str(case.pk),
    }
    return client.post(url, data)


def test_task_from_case_shows_the_case_status_live(office, client):
    case = make_case()
    client.force_login(office["staff"])
    response = _from_case(client, office["board"], case)
    assert response.status_code == 302
    task = Task.objects.get()
    assert task.case_id == case.pk and case.reference in task.title
    client.cookies["django_language"] = "en"
    page = client.get(reverse("tasks:task", args=[task.pk])).content.decode()
    facts = _case_facts(page)
    assert case.reference in facts and "<strong>New</strong>" in facts
    assert reverse("console:case", args=[case.pk]) in facts
    case_change_status(case_id=case.pk, status="in_progress", actor=office["manager"])
    facts = _case_facts(client.get(reverse("tasks:task", args=[task.pk])).content.decode())
    assert "<strong>In progress</strong>" in facts and "New" not in facts


def test_only_people_who_may_see_the_case_can_make_a_task_from_it(office, client):
    from cetatea.intranet.tasks import services

    case = make_case()
    # revenue officers do not open cases in the console; put them on the board.
    services.board_member_add(
        actor=office["manager"], board_id=office["board"].pk, username="revenue"
    )
    client.force_login(office["revenue"])
    url = reverse("tasks:task_create", args=[office["board"].pk]) + f"?case={case.pk}"
    assert client.get(url).status_code == 403
    response = client.post(
        url,
        {"title": "x", "priority": "2", "idempotency_key": "8d4c8f1e-1111-4a4a-9a9a-000000000001"},
    )
    assert response.status_code == 403
    assert not Task.objects.exists()
    assert client.get(reverse("tasks:create_from_case") + f"?case={case.pk}").status_code == 403


def test_from_case_link_picks_the_only_board_or_asks(office, client):
    case = make_case()
    client.force_login(office["staff"])
    start = reverse("tasks:create_from_case") + f"?case={case.pk}"
    response = client.get(start)
    assert response.status_code == 302
    assert response["Location"].endswith(
        reverse("tasks:task_create", args=[office["board"].pk]) + f"?case={case.pk}"
    )
    from cetatea.intranet.tasks import services

    other = services.board_create(actor=office["staff"], name="Al doilea")
    page = client.get(start)
    assert page.status_code == 200 and "Al doilea" in page.content.decode()
    chosen = client.get(start + f"&board={other.pk}")
    assert chosen.status_code == 302 and f"/boards/{other.pk}/new/" in chosen["Location"]
    # A board one is not a member of cannot be chosen.
    foreign = services.board_create(actor=office["operator"], name="Străin")
    assert client.get(start + f"&board={foreign.pk}").status_code == 400


def test_console_case_page_links_to_a_new_task(office, client):
    case = make_case()
    client.force_login(office["staff"])
    page = client.get(reverse("console:case", args=[case.pk])).content.decode()
    assert reverse("tasks:create_from_case") + f"?case={case.pk}" in page
