"""Editing a Markdown document in a real browser (headless Chromium, Playwright): lock
it, edit, preview (htmx, rendered on the server), save, and find the new version in
the history. axe-core finds no WCAG 2.1 A/AA violation on the edit page. Skipped when
Chromium or Playwright is missing (see scripts/browser-deps.sh)."""

from __future__ import annotations

import pytest

from cetatea.catalog.models import Department, StaffProfile
from cetatea.core.testing.browser import assert_accessible, require_browser
from cetatea.intranet.documents import services
from cetatea.intranet.documents.models import DocumentVersion

pytestmark = [pytest.mark.slow, pytest.mark.browser]

sync_api = require_browser()


@pytest.fixture
def editor_page(open_page, personas):
    roads = Department.objects.create(code="roads", name_ro="Drumuri", name_en="Roads")
    user = personas["staff"]
    StaffProfile.objects.create(user=user, department=roads)
    folder = services.folder_create(actor=user, name="Proceduri")
    document = services.document_markdown_create(
        actor=user, folder_id=folder.pk, title="Procedura de avizare", text="# Pași\n\n1. Cerere\n"
    )
    return open_page(user, f"/staff/intranet/documents/{document.pk}/"), document


def test_lock_edit_preview_save_and_see_the_version_in_history(editor_page):
    page, document = editor_page
    assert_accessible(page)  # the document's page
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

    assert_accessible(page)

    page.get_by_label("What changed (optional)").fill("pasul 2")
    page.get_by_role("button", name="Save a new version").click()
    page.wait_for_selector("text=Version 2 saved.")
    expect = sync_api.expect
    expect(page.get_by_role("button", name="Lock for editing")).to_be_visible()  # released
    page.get_by_role("link", name="History").click()
    row = page.get_by_role("row").filter(has_text="pasul 2")
    expect(row).to_contain_text("2 (current)")
    assert_accessible(page)  # the history
    assert DocumentVersion.objects.filter(document=document).count() == 2
