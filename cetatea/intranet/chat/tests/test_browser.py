"""Two people in a channel, in a real browser (headless Chromium, Playwright).

One posts: the message appears at once on their page and the box is emptied; the other
sees it appear within a poll or two, without reloading. axe-core finds no WCAG 2.1
A/AA violation on the channel page. Skipped when Chromium or Playwright is missing
(see scripts/browser-deps.sh).
"""

from __future__ import annotations

import os
from importlib import resources
from urllib.parse import urlparse

import pytest
from django.test import Client

from cetatea.intranet.chat.models import Message

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
def open_page(browser, live_server, transactional_db):
    contexts, problems = [], []

    def open_as(user, path: str):
        client = Client()
        client.force_login(user)
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

        def only_loopback(route):
            if urlparse(route.request.url).hostname in LOOPBACK:
                route.continue_()
            else:
                problems.append(route.request.url)
                route.abort()

        context.route("**/*", only_loopback)
        page = context.new_page()
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.goto(live_server.url + path)
        contexts.append(context)
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert problems == []


def test_a_posted_message_appears_for_the_other_person_without_reload(open_page, people, channels):
    path = f"/staff/intranet/messages/c/{channels['roads'].pk}/"
    reader = open_page(people["crew"], path)
    writer = open_page(people["staff"], path)
    reader.evaluate("window.__notReloaded = true")

    writer.get_by_label("Message", exact=True).fill("Plecăm la 8, @crew")
    writer.get_by_role("button", name="Send").click()
    writer.wait_for_selector("#message-list li:has-text('Plecăm la 8')")
    assert writer.input_value("#id_body") == ""
    assert writer.evaluate("document.activeElement.id") == "id_body"

    reader.wait_for_selector("#message-list li:has-text('Plecăm la 8')", timeout=8_000)
    assert reader.evaluate("window.__notReloaded") is True
    assert reader.locator("#message-list li.mention-me").count() == 1

    # A second message: exactly one copy on each page (poll and post never duplicate).
    writer.get_by_label("Message", exact=True).fill("Și la 9")
    writer.keyboard.press("Tab")
    writer.get_by_role("button", name="Send").click()
    reader.wait_for_selector("#message-list li:has-text('Și la 9')", timeout=8_000)
    writer.wait_for_timeout(2_500)  # a poll after the post
    assert writer.locator("#message-list li:has-text('Și la 9')").count() == 1
    assert Message.objects.filter(body="Și la 9").count() == 1

    reader.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    violations = reader.evaluate(
        """async () => (await axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})).violations
            .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))"""
    )
    assert violations == []
