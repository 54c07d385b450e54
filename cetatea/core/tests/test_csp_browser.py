"""The strict Content-Security-Policy in a real browser (headless Chromium, Playwright):
the map, the report form, a case in the staff console and the management overview load,
draw their maps, and the browser reports no violation of the policy (no inline script or
style, nothing from another origin). Skipped when Chromium or Playwright is missing
(scripts/browser-deps.sh)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from cetatea.core.testing.browser import require_browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]

require_browser()

# Installed before any page script: every violation the browser reports is kept.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " +
    (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


@pytest.fixture
def site(live_server, settings, catalog, personas):
    """Tiles from the live server itself (404s: the map still draws, nothing goes out,
    and the origin is 'self'); a case with a point; a worker and a leader."""
    from cetatea.catalog.models import StaffProfile
    from cetatea.core import roles
    from conftest import make_case, make_user

    settings.CETATEA_TILE_URL = live_server.url + "/static/none/{z}/{x}/{y}.png"
    StaffProfile.objects.create(user=personas["staff"], department=catalog["roads"])
    leader = make_user("leader", roles.LEADERSHIP)
    lat, lon = django_settings.CETATEA_MAP_CENTER
    case = make_case(latitude=lat, longitude=lon, title="Groapă pe Calea Moților")
    return {"case": case, "staff": personas["staff"], "leader": leader}


@pytest.mark.parametrize(
    ("who", "path", "map_selector"),
    [
        (None, "/", "#map.leaflet-container"),
        (None, "/report/", "#pick-map.leaflet-container"),
        ("staff", "/staff/cases/{case}/", "#case-map.leaflet-container"),
        ("leader", "/staff/insights/", "#insights-map.leaflet-container"),
    ],
)
def test_pages_run_under_the_policy_without_a_violation(
    open_page, live_server, site, who, path, map_selector
):
    console: list[str] = []
    page = open_page(site[who] if who else None, viewport={"width": 1280, "height": 900})
    page.add_init_script(LISTEN)
    page.on(
        "console",
        lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    response = page.goto(live_server.url + path.format(case=site["case"].pk))
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(map_selector)  # Leaflet drew the map (styles through CSSOM)
    assert page.locator(f"{map_selector.split('.')[0]} .leaflet-pane").count() > 0
    page.wait_for_load_state("networkidle")
    # htmx put no <style> of its own in the page (its indicator rule is in cetatea.css).
    assert page.locator("head style").count() == 0
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], violations
    assert console == [], console
