"""The roster, a shift and the leave form in a real browser (headless Chromium).

A planner reaches a shift in the week roster with the keyboard alone (the scrolling
region takes focus, then the shift's link), axe-core finds no WCAG 2.1 A/AA violation on
the roster, the setup page or the leave form with its errors. Skipped when Chromium or
Playwright is missing (see scripts/browser-deps.sh).
"""

from __future__ import annotations

import datetime as dt
import os
from importlib import resources
from urllib.parse import urlparse

import pytest
from django.test import Client

from cetatea.intranet.schedules.tests.conftest import at, make_shift

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
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
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
def planner_page(browser, live_server, transactional_db, sched):
    client = Client()
    client.force_login(sched["planner"])
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


def _axe(page) -> list[str]:
    page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate(
        """async () => (await axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})).violations
            .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))"""
    )


def test_the_roster_is_keyboard_navigable_and_accessible(planner_page, sched, live_server):
    page = planner_page
    monday = dt.date(2026, 1, 12)
    tuesday = monday + dt.timedelta(days=1)
    make_shift(sched["counter1"], sched["clerk"], at(tuesday, 8), at(tuesday, 16))
    make_shift(sched["counter1"], sched["staff"], at(tuesday, 8), at(tuesday, 12), published=False)
    team = sched["counters"]
    page.goto(f"{live_server.url}/staff/intranet/schedules/team/{team.pk}/week/?start=2026-01-12")
    assert "under minimum Tue 13.01 12:00–16:00" in page.inner_text(".coverage-warnings")
    assert _axe(page) == []
    page.focus(".roster-scroll")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "08:00–16:00" in focused
    page.keyboard.press("Enter")
    page.wait_for_url("**/schedules/shift/*/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Shift")
    assert _axe(page) == []

    page.goto(f"{live_server.url}/staff/intranet/schedules/team/{team.pk}/setup/")
    assert _axe(page) == []

    page.goto(f"{live_server.url}/staff/intranet/schedules/leave/")
    page.fill("#id_start_date", "2026-01-14")
    page.fill("#id_end_date", "2026-01-13")
    page.click("text=Send for approval")
    page.wait_for_selector(".error-summary")
    assert page.get_attribute("#id_end_date", "aria-describedby") == "id_end_date_error"
    assert _axe(page) == []
