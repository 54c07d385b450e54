"""The intranet's home in a real browser: axe-core finds no WCAG 2.1 A/AA violation.

Skipped when Chromium or Playwright is missing (see scripts/browser-deps.sh), like
cetatea/telephony/tests/test_browser.py.
"""

from __future__ import annotations

import datetime as dt
import os
from importlib import resources
from urllib.parse import urlparse

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cetatea.cases.models import Case
from cetatea.intranet import services
from conftest import make_case

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
def staff_page(browser, live_server, transactional_db, staffed):
    client = Client()
    client.force_login(staffed["staff"])
    context = browser.new_context(locale="ro-RO")
    context.set_default_timeout(10_000)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    outside: list[str] = []

    def only_loopback(route):
        if urlparse(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    yield page
    context.close()
    assert not outside, f"requests left the machine: {outside}"


def test_home_has_no_axe_violations(staff_page, live_server, staffed):
    services.announcement_publish(
        author=staffed["manager"], title="Program de sărbători", body="**Atenție**: program redus."
    )
    case = make_case(title="Groapă pe strada Unirii", latitude=46.07, longitude=23.57)
    Case.objects.filter(pk=case.pk).update(
        assignee=staffed["staff"], due_at=timezone.now() - dt.timedelta(hours=2)
    )
    staff_page.goto(live_server.url + reverse("intranet:home"))
    assert staff_page.get_by_role("link", name=case.reference).is_visible()
    assert staff_page.locator("h1").count() == 1
    assert staff_page.get_by_text("Program de sărbători").is_visible()
    staff_page.add_script_tag(path=str(AXE_JS))
    tags = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']"
    result = staff_page.evaluate(f"async () => await axe.run(document, {{runOnly: {tags}}})")
    violations = [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
    assert violations == []
