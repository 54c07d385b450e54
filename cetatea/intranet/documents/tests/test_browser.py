"""Editing a Markdown document in a real browser (headless Chromium, Playwright): lock
it, edit, preview (htmx, rendered on the server), save, and find the new version in
the history. axe-core finds no WCAG 2.1 A/AA violation on the edit page. Skipped when
Chromium or Playwright is missing (see scripts/browser-deps.sh)."""

from __future__ import annotations

import os
from importlib import resources
from urllib.parse import urlparse

import pytest
from django.test import Client

from cetatea.catalog.models import Department, StaffProfile
from cetatea.intranet.documents import services
from cetatea.intranet.documents.models import DocumentVersion

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
def editor_page(browser, live_server, transactional_db, personas):
    roads = Department.objects.create(code="roads", name_ro="Drumuri", name_en="Roads")
    user = personas["staff"]
    StaffProfile.objects.create(user=user, department=roads)
    folder = services.folder_create(actor=user, name="Proceduri")
    document = services.document_markdown_create(
        actor=user, folder_id=folder.pk, title="Procedura de avizare", text="# Pași\n\n1. Cerere\n"
    )
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
    page.goto(f"{live_server.url}/staff/intranet/documents/{document.pk}/")
    yield page, document
    context.close()
    assert outside == [] and errors == []


def axe_violations(page) -> list[str]:
    page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate(
        """async () => (await axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})).violations
            .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))"""
    )


def test_lock_edit_preview_save_and_see_the_version_in_history(editor_page):
    page, document = editor_page
    assert axe_violations(page) == []  # the document's page
    page.get_by_role("button", name="Lock for editing").click()
    sync_api.expect(page.get_by_text("You have locked this document since")).to_be_visible()
    page.get_by_role("link", name="Edit the text").click()
    page.get_by_label("Text (Markdown)").fill(
        "# Pași\n\n1. Cerere\n2. **Aviz** <script>alert(1)</script>\n"
    )
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("#preview strong")
    assert page.inner_text("#preview strong") == "Aviz"
    assert page.locator("#preview script").count() == 0

    assert axe_violations(page) == []

    page.get_by_label("What changed (optional)").fill("pasul 2")
    page.get_by_role("button", name="Save a new version").click()
    page.wait_for_selector("text=Version 2 saved.")
    expect = sync_api.expect
    expect(page.get_by_role("button", name="Lock for editing")).to_be_visible()  # released
    page.get_by_role("link", name="History").click()
    row = page.get_by_role("row").filter(has_text="pasul 2")
    expect(row).to_contain_text("2 (current)")
    assert axe_violations(page) == []  # the history
    assert DocumentVersion.objects.filter(document=document).count() == 2
