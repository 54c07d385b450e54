"""The operator's call screen in a real browser (headless Chromium, Playwright).

A newCall posted to the CTI endpoint opens the caller's record on the operator's open
screen within a poll or two, and the live region announces it; an unknown caller gets
the new-person form, and what the operator types in it survives the screen's refreshes.
axe-core finds no WCAG 2.1 A/AA violation on the screen. Skipped when Chromium or
Playwright is missing (see scripts/browser-deps.sh).
"""

from __future__ import annotations

import os
from importlib import resources
from urllib.parse import urlparse

import pytest
from django.test import Client

from conftest import make_person

CHROMIUM = "/usr/bin/chromium"
TOKEN = "browser-cti-token"
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
def operator_page(browser, live_server, transactional_db, personas, settings):
    settings.CETATEA_CTI_TOKEN = TOKEN
    client = Client()
    client.force_login(personas["operator"])
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(10_000)
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            },
            # The staff interface in English, which the assertions read.
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
    page.goto(live_server.url + "/staff/calls/")
    yield page
    context.close()
    assert outside == [] and errors == []


def pbx(**data) -> None:
    response = Client().post(f"/api/v1/cti/{TOKEN}", data)
    assert response.status_code == 200, response.content


def test_a_new_call_opens_the_callers_record_and_is_announced(operator_page):
    page = operator_page
    make_person(last_name="Ionescu", first_name="Maria", phones=["0722123456"])
    page.wait_for_selector("#call-screen")
    pbx(
        event="newCall",
        callId="b-1",
        direction="in",
        to="0258811528",
        **{"from": "0722123456"},
        **{"user[]": ["op"]},
    )
    page.wait_for_function(
        "document.querySelector('#call-announcer').textContent.includes('Ionescu Maria')"
    )
    assert "Incoming call from Ionescu Maria" in page.inner_text("#call-announcer")
    assert page.get_by_role("heading", name="Ionescu Maria").is_visible()
    page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    violations = page.evaluate(
        """async () => (await axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})).violations
            .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))"""
    )
    assert violations == []


def test_typing_in_the_new_person_form_survives_refreshes(operator_page):
    page = operator_page
    pbx(
        event="newCall",
        callId="b-2",
        direction="in",
        to="0258811528",
        **{"from": "0733000111"},
        **{"user[]": ["op"]},
    )
    page.wait_for_selector("#id_last_name")
    assert page.input_value("#id_phone") == "0733 000 111"
    page.fill("#id_last_name", "Nou")
    pbx(event="answer", callId="b-2", answeringNumber="op")  # the screen changes state
    page.wait_for_function(
        "document.querySelector('#call-announcer').textContent.includes('Call in progress')"
    )
    assert page.input_value("#id_last_name") == "Nou"
