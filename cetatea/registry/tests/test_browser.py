"""The clerk's registry pages in a real browser (headless Debian Chromium, Playwright): a
clerk of the general registry signs in, registers a petition handed in at the counter
(the sender found as they type), lands on the entry page with its number and term, and
opens the receipt (a PDF). axe-core finds no WCAG 2.1 A/AA violation on the form or on
the entry page.

Reuses the portal's browser fixtures (live server with the real catalogue, no network);
skipped, like them, when Chromium or Playwright is missing.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from cetatea.core.testing.browser import assert_accessible
from cetatea.portal.tests.test_browser import (  # noqa: F401, F811 (fixtures)
    page,
    site,
    sync_api,
)
from conftest import make_cnp, make_person, make_user

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SUMMARY = "Sesizare: groapă adâncă în fața blocului A3 de pe Calea Moților"


@pytest.fixture
def clerk_page(page, site):  # noqa: F811
    from cetatea.core import roles
    from cetatea.registry.models import RegistryPoint

    call_command("load_registry", stdout=io.StringIO())
    user = make_user("registratura", roles.REGISTRY_CLERK, first_name="Ana", last_name="Pop")
    RegistryPoint.objects.get(code="rg").clerks.add(user)
    # The staff interface in English, which the assertions read.
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": site.url}])
    page.goto(site.url + "/login/?next=/staff/registry/new/")
    page.fill("#id_username", "registratura")
    page.fill("#id_password", "correct-horse-9")
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/staff/registry/new/**")
    return page


def assert_no_axe_violation(pg, where: str) -> None:
    assert_accessible(pg)


def test_a_clerk_registers_a_petition_at_the_counter_and_prints_the_receipt(clerk_page, site):  # noqa: F811
    from cetatea.registry.models import DocumentType, Entry

    page = clerk_page  # noqa: F811
    person = make_person(
        last_name="Ștefănescu", first_name="Ana", phones=["0722 111 222"], emails=["ana@example.ro"]
    )
    petition = DocumentType.objects.get(code="petitie")

    # The new-person fields stay hidden until they are asked for.
    sync_api.expect(page.locator("#new-person")).to_be_hidden()
    page.select_option("#id_doc_type", str(petition.pk))
    sync_api.expect(page.locator("#id_channel")).to_have_value("counter")

    # The sender, found as the clerk types (diacritics do not matter).
    page.locator("#id_q").press_sequentially("stefanescu", delay=20)
    choice = page.locator(f"#person-results input[name=person][value='{person.pk}']")
    sync_api.expect(choice).to_be_visible()
    choice.check()
    page.fill("#id_sender_address", "Calea Moților 10, Alba Iulia")
    page.fill("#id_summary", SUMMARY)
    page.fill("#id_pages", "2")

    assert_no_axe_violation(page, "the register form")

    page.click("#register-button")
    page.wait_for_url("**/staff/registry/*/")
    entry = Entry.objects.get()
    assert entry.person_id == person.pk and entry.channel == "counter"
    assert entry.doc_type == petition and entry.case is not None
    number = page.locator("#entry-number").inner_text().strip()
    assert number == entry.display_number == f"RG-1/{entry.book.year}"
    messages = page.locator(".messages")
    sync_api.expect(messages).to_contain_text(f"Registered as {number}")
    sync_api.expect(messages).to_contain_text(entry.due_date.strftime("%d.%m.%Y"))
    sync_api.expect(page.locator("#entry-term")).to_contain_text("days left")

    assert_no_axe_violation(page, "the entry page")

    # The receipt for the citizen: a PDF, in the clerk's session.
    link = page.locator("#receipt-link")
    sync_api.expect(link).to_be_visible()
    response = page.request.get(site.url + link.get_attribute("href"))
    assert response.status == 200, response.status
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.body().startswith(b"%PDF")


def test_a_wrong_cnp_is_shown_in_the_error_summary_and_takes_the_focus(clerk_page):
    from cetatea.registry.models import DocumentType, Entry

    page = clerk_page  # noqa: F811
    page.select_option("#id_doc_type", str(DocumentType.objects.get(code="petitie").pk))
    page.check("#person-new")
    sync_api.expect(page.locator("#new-person")).to_be_visible()
    page.fill("#id_new_last_name", "Ionescu")
    cnp = make_cnp()
    page.fill("#id_new_national_id", cnp[:-1] + str((int(cnp[-1]) + 1) % 10))  # wrong digit
    page.fill("#id_sender_address", "Str. Mihai Viteazul 1")
    page.fill("#id_summary", SUMMARY)
    page.click("#register-button")
    summary = page.locator(".error-summary")
    sync_api.expect(summary).to_be_focused()
    sync_api.expect(summary).to_contain_text("CNP")
    # The link of the summary leads to the field, which says what is wrong.
    summary.locator("a[href='#id_new_national_id']").click()
    sync_api.expect(page.locator("#id_new_national_id")).to_be_focused()
    sync_api.expect(page.locator("#id_new_national_id")).to_have_attribute("aria-invalid", "true")
    assert Entry.objects.count() == 0
    assert_no_axe_violation(page, "the register form with errors")
