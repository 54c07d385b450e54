"""The kanban and a task page in a real browser (headless Chromium, Playwright).

A card is moved with the column select and the Move button (no dragging): htmx
replaces the columns, the move is announced in the status region and the focus stays on
the moved card. A move made meanwhile by someone else is refused with a clear message.
axe-core finds no WCAG 2.1 A/AA violation on the board and the task page. Skipped when
Chromium or Playwright is missing (see scripts/browser-deps.sh).
"""

from __future__ import annotations

import os
from importlib import resources
from urllib.parse import urlparse

import pytest
from django.test import Client

from cetatea.intranet.tasks import services
from cetatea.intranet.tasks.models import Task
from cetatea.intranet.tasks.tests.conftest import make_task

CHROMIUM = "/usr/bin/chromium"
LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}

pytestmark = [pytest.mark.slow, pytest.mark.browser]

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is missing: run scripts/browser-deps.sh", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")
AXE_JS = resources.files("axe_playwright_python") / "axe.min.js"


@pytest.fixture(scope="module")
def browser():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop in this thread
        with sync_api.sync_playwright() as pw:
            try:
                chromium = pw.chromium.launch(
                    executable_path=CHROMIUM,
                    headless=True,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )
            except sync_api.Error as exc:
                pytest.skip(f"Chromium did not start: {exc.message.splitlines()[0]}")
            yield chromium
            chromium.close()


@pytest.fixture
def staff_page(browser, live_server, transactional_db, office):
    client = Client()
    client.force_login(office["staff"])
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(10_000)
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            },
            {"name": "django_language", "value": "en", "url": live_server.url},
        ]
    )
    outside: list[str] = []
    errors: list[str] = []

    def only_loopback(route):
        if urlparse(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert outside == [] and errors == []


def _axe(page) -> list:
    page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate(
        """async () => (await axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})).violations"""
    )


def test_move_a_card_with_the_keyboard_and_see_a_conflict(staff_page, live_server, office):
    page = staff_page
    a = make_task(office["board"], office["staff"], title="Asfaltare", assignee=office["staff"])
    make_task(office["board"], office["staff"], title="Borduri")
    page.goto(f"{live_server.url}/staff/intranet/tasks/boards/{office['board'].pk}/")
    assert _axe(page) == []
    card = page.locator(f"#task-{a.pk}")
    card.get_by_label("Column").select_option("in_progress")
    card.get_by_role("button", name="Move “Asfaltare”").press("Enter")
    page.wait_for_function(
        "document.querySelector('#move-status').textContent.includes('is now in')"
    )
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
    page.wait_for_function(
        "document.querySelector('#move-status').textContent.includes('changed this task')"
    )
    assert "Nothing of yours was saved" in page.inner_text("#move-status")
    assert "Asfaltare" in page.get_by_role("region", name="Done").inner_text()
    assert Task.objects.get(pk=a.pk).status == "done"


def test_task_page_has_no_accessibility_violations(staff_page, live_server, office):
    page = staff_page
    task = make_task(office["board"], office["staff"], title="Raport", assignee=office["staff"])
    services.checklist_add(actor=office["staff"], task_id=task.pk, text="Pas unu")
    services.comment_add(actor=office["manager"], task_id=task.pk, body="@staff vezi")
    page.goto(f"{live_server.url}/staff/intranet/tasks/{task.pk}/")
    assert _axe(page) == []
    page.get_by_role("button", name="Not done; mark as done: Pas unu").click()
    page.get_by_role("button", name="Done; mark as not done: Pas unu").wait_for()
    assert task.checklist.get().done
