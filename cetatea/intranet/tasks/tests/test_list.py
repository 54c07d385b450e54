"""The list view: filters, sorting by due time, keyset pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cetatea.intranet.tasks import selectors, services
from cetatea.intranet.tasks.tests.conftest import make_task

pytestmark = pytest.mark.django_db


def _all_pages(board, filters, page_size):
    titles, cursor, pages = [], "", 0
    while True:
        page = selectors.task_list(board=board, filters=filters, cursor=cursor, page_size=page_size)
        titles += [t.title for t in page.tasks]
        pages += 1
        if not page.next_cursor:
            return titles, pages
        cursor = page.next_cursor


@pytest.fixture
def tasks(office):
    now = timezone.now().replace(microsecond=0)
    board, m = office["board"], office["manager"]
    made = {}
    for i in range(7):
        made[f"d{i}"] = make_task(
            board,
            m,
            title=f"d{i}",
            due_at=now + dt.timedelta(days=i % 4),
            assignee=office["staff"] if i % 2 else None,
            priority=4 if i == 3 else 2,
        )
    for i in range(3):
        made[f"n{i}"] = make_task(board, m, title=f"n{i}")
    t = made["d5"]
    services.task_move(actor=m, task_id=t.pk, version=t.version, status="done")
    return {"now": now, **made}


def test_sorted_by_due_with_undated_last_over_pages(office, tasks):
    titles, pages = _all_pages(office["board"], selectors.ListFilters(), page_size=3)
    assert titles == ["d0", "d4", "d1", "d5", "d2", "d6", "d3", "n0", "n1", "n2"]
    assert pages == 4
    titles, _ = _all_pages(office["board"], selectors.ListFilters(sort="-due"), page_size=4)
    assert titles == ["d3", "d6", "d2", "d5", "d1", "d4", "d0", "n0", "n1", "n2"]


def test_filters(office, tasks):
    board = office["board"]
    mine = selectors.ListFilters(assignee_id=office["staff"].pk)
    assert _all_pages(board, mine, 2)[0] == ["d1", "d5", "d3"]
    nobody = selectors.ListFilters(unassigned=True)
    assert _all_pages(board, nobody, 2)[0] == ["d0", "d4", "d2", "d6", "n0", "n1", "n2"]
    done = selectors.ListFilters(statuses=["done"])
    assert _all_pages(board, done, 2)[0] == ["d5"]
    urgent = selectors.ListFilters(priorities=[4])
    assert _all_pages(board, urgent, 2)[0] == ["d3"]
    before = selectors.ListFilters(due_before=tasks["now"] + dt.timedelta(days=1))
    assert _all_pages(board, before, 1)[0] == ["d0", "d4"]


def test_list_view_filters_and_next_page(office, tasks, client, django_assert_max_num_queries):
    client.force_login(office["staff"])
    url = reverse("tasks:board_list", args=[office["board"].pk])
    with django_assert_max_num_queries(15):
        response = client.get(url, {"assignee": "me", "status": ["todo", "in_progress"]})
    assert response.status_code == 200
    titles = [t.title for t in response.context["page"].tasks]
    assert titles == ["d1", "d3"]
    bad = client.get(url, {"assignee": str(office["operator"].pk)})
    assert bad.status_code == 400  # not a member of the board
    garbage = client.get(url, {"cursor": "not json"})
    assert garbage.status_code == 200  # a broken cursor starts again


def test_list_view_pages_link(office, client):
    for i in range(30):
        make_task(office["board"], office["manager"], title=f"t{i:02d}")
    client.force_login(office["staff"])
    url = reverse("tasks:board_list", args=[office["board"].pk])
    first = client.get(url)
    assert len(first.context["page"].tasks) == 25
    second = client.get(first.context["next_url"])
    assert [t.title for t in second.context["page"].tasks] == [f"t{i}" for i in range(25, 30)]
    assert second.context["next_url"] == ""
