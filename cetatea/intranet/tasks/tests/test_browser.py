"""The kanban and a task page in a real browser (headless Chromium, Playwright).

A card is moved with the column select and the Move button (no dragging): htmx
replaces the columns, the move is announced in the status region and the focus stays on
the moved card. A move made meanwhile by someone else is refused with a clear message.
axe-core finds no WCAG 2.1 A/AA violation on the board and the task page. Skipped when
Chromium or Playwright is missing (see scripts/browser-deps.sh).
"""

from __future__ import annotations

import pytest

from cetatea.core.testing.browser import assert_accessible, require_browser
from cetatea.intranet.tasks import services
from cetatea.intranet.tasks.models import Task
from cetatea.intranet.tasks.tests.conftest import make_task

pytestmark = [pytest.mark.slow, pytest.mark.browser]

require_browser()

from playwright.sync_api import expect  # noqa: E402 (after the skip check above)


@pytest.fixture
def staff_page(open_page, office):
    return open_page(office["staff"])


def test_move_a_card_with_the_keyboard_and_see_a_conflict(staff_page, live_server, office):
    page = staff_page
    a = make_task(office["board"], office["staff"], title="Asfaltare", assignee=office["staff"])
    make_task(office["board"], office["staff"], title="Borduri")
    page.goto(f"{live_server.url}/staff/intranet/tasks/boards/{office['board'].pk}/")
    assert_accessible(page)
    card = page.locator(f"#task-{a.pk}")
    card.get_by_label("Column").select_option("in_progress")
    card.get_by_role("button", name="Move “Asfaltare”").press("Enter")
    expect(page.locator("#move-status")).to_contain_text("is now in")
    assert "“Asfaltare” is now in In progress." in page.inner_text("#move-status")
    column = page.get_by_role("region", name="In progress")
    assert "Asfaltare" in column.inner_text()
    # The focus stays on the moved card.
    assert page.evaluate("document.activeElement.id") == f"move-{a.pk}"
    assert Task.objects.get(pk=a.pk).status == "in_progress"

    # Someone else moves the card to Done; this page still shows it in progress.
    a.refresh_from_db()
    services.task_move(actor=office["manager"], task_id=a.pk, version=a.version, status="done")
    card = page.locator(f"#task-{a.pk}")
    card.get_by_label("Column").select_option("todo")
    card.get_by_role("button", name="Move “Asfaltare”").click()
    expect(page.locator("#move-status")).to_contain_text("changed this task")
    assert "Nothing of yours was saved" in page.inner_text("#move-status")
    assert "Asfaltare" in page.get_by_role("region", name="Done").inner_text()
    assert Task.objects.get(pk=a.pk).status == "done"


def test_task_page_has_no_accessibility_violations(staff_page, live_server, office):
    page = staff_page
    task = make_task(office["board"], office["staff"], title="Raport", assignee=office["staff"])
    services.checklist_add(actor=office["staff"], task_id=task.pk, text="Pas unu")
    services.comment_add(actor=office["manager"], task_id=task.pk, body="@staff vezi")
    page.goto(f"{live_server.url}/staff/intranet/tasks/{task.pk}/")
    assert_accessible(page)
    page.get_by_role("button", name="Not done; mark as done: Pas unu").click()
    page.get_by_role("button", name="Done; mark as not done: Pas unu").wait_for()
    assert task.checklist.get().done
