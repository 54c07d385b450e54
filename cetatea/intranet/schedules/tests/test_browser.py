"""The roster, a shift and the leave form in a real browser (headless Chromium).

A planner reaches a shift in the week roster with the keyboard alone (the scrolling
region takes focus, then the shift's link), axe-core finds no WCAG 2.1 A/AA violation on
the roster, the setup page or the leave form with its errors. Skipped when Chromium or
Playwright is missing (see scripts/browser-deps.sh).
"""

from __future__ import annotations

import datetime as dt

import pytest

from cetatea.core.testing.browser import assert_accessible, require_browser
from cetatea.intranet.schedules.tests.conftest import at, make_shift

pytestmark = [pytest.mark.slow, pytest.mark.browser]

require_browser()


@pytest.fixture
def planner_page(open_page, sched):
    return open_page(sched["planner"])


def test_the_roster_is_keyboard_navigable_and_accessible(planner_page, sched, live_server):
    page = planner_page
    monday = dt.date(2026, 1, 12)
    tuesday = monday + dt.timedelta(days=1)
    make_shift(sched["counter1"], sched["clerk"], at(tuesday, 8), at(tuesday, 16))
    make_shift(sched["counter1"], sched["staff"], at(tuesday, 8), at(tuesday, 12), published=False)
    team = sched["counters"]
    page.goto(f"{live_server.url}/staff/intranet/schedules/team/{team.pk}/week/?start=2026-01-12")
    assert "under minimum Tue 13.01 12:00–16:00" in page.inner_text(".coverage-warnings")
    assert_accessible(page)
    page.focus(".roster-scroll")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "08:00–16:00" in focused
    page.keyboard.press("Enter")
    page.wait_for_url("**/schedules/shift/*/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Shift")
    assert_accessible(page)

    page.goto(f"{live_server.url}/staff/intranet/schedules/team/{team.pk}/setup/")
    assert_accessible(page)

    page.goto(f"{live_server.url}/staff/intranet/schedules/leave/")
    page.fill("#id_start_date", "2026-01-14")
    page.fill("#id_end_date", "2026-01-13")
    page.click("text=Send for approval")
    page.wait_for_selector(".error-summary")
    assert page.get_attribute("#id_end_date", "aria-describedby") == "id_end_date_error"
    assert_accessible(page)
