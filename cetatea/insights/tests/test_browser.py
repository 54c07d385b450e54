"""The overview in a real browser (headless Chromium, Playwright): the mayor's office
opens the city dashboard, sees a figure, follows a department's number to the cases
behind it and opens one. axe-core finds no WCAG 2.1 A/AA violation on the dashboard
nor on the case list. Skipped when Chromium or Playwright is missing
(see scripts/browser-deps.sh)."""

from __future__ import annotations

import re

import pytest

from cetatea.core.testing.browser import assert_accessible, require_browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]

require_browser()


@pytest.fixture
def no_tiles(live_server, settings):
    # Tiles from the live server itself (404s): the map still draws, nothing goes out.
    settings.CETATEA_TILE_URL = live_server.url + "/static/none/{z}/{x}/{y}.png"


def test_from_a_figure_to_the_cases_behind_it(open_page, viewers, city, no_tiles):
    page = open_page(
        viewers["leader"],
        "/staff/insights/?start=2026-03-01&end=2026-03-31",
        viewport={"width": 1280, "height": 900},
    )
    assert page.locator("#kpi-received .kpi-value").inner_text().strip() == "5"
    page.wait_for_selector("#insights-map.leaflet-container")
    assert page.locator("#insights-map path.leaflet-interactive").count() == 1  # the Citadel
    assert_accessible(page)

    roads = page.locator("#table-departments tr", has=page.get_by_role("link", name="Roads"))
    roads.get_by_role("link", name="3", exact=True).first.click()
    page.wait_for_url(re.compile(r"/staff/insights/cases/\?metric=received"))
    rows = page.locator("#drill-table tbody tr")
    assert rows.count() == 3
    assert sorted(rows.locator("td:nth-child(2)").all_inner_texts()) == ["P3", "P4", "P5"]
    assert_accessible(page)

    reference = city["potholes"][0].reference
    page.get_by_role("link", name=reference).click()
    page.wait_for_url(re.compile(rf"/staff/cases/{city['potholes'][0].pk}/$"))
    assert reference in page.locator("h1").inner_text()
