"""The operator's intake form in a real browser (headless Debian Chromium, Playwright):
sign in, find the caller as you type, pick a category by searching, place the request by
street, file it and see the reference to read to the caller. No WCAG A/AA violation.

Reuses the portal's browser fixtures (live server with the real catalogue, no network);
skipped, like them, when Chromium or Playwright is missing.
"""

from __future__ import annotations

import pytest

from cetatea.core.testing.browser import assert_accessible
from cetatea.portal.tests.test_browser import (  # noqa: F401, F811 (fixtures)
    CATEGORY,
    choose_street,
    map_ready,
    page,
    site,
    sync_api,
)
from conftest import make_person, make_user

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def operator_page(page, site):  # noqa: F811
    from cetatea.core import roles

    make_user("dispecer", roles.OPERATOR)
    # The staff interface in English, which the assertions read.
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": site.url}])
    page.goto(site.url + "/login/?next=/staff/intake/%3Fchannel%3Dphone%26call%3Dcall-42")
    page.fill("#id_username", "dispecer")
    page.fill("#id_password", "correct-horse-9")
    page.click("button[type=submit]:text('Sign in'), form.stack button[type=submit]")
    page.wait_for_url("**/staff/intake/**")
    return page


def test_operator_files_a_phone_request_for_a_found_caller(operator_page):
    from cetatea.cases.models import Case

    page = operator_page  # noqa: F811
    person = make_person(last_name="Ștefănescu", first_name="Ana", phones=["0722 111 222"])
    assert map_ready(page)

    # The caller, found as the operator types (diacritics do not matter).
    page.locator("#id_q").press_sequentially("stefanescu", delay=20)
    choice = page.locator(f"#person-results input[name=person][value='{person.pk}']")
    sync_api.expect(choice).to_be_visible()
    choice.check()

    # The category, found by searching the grouped list.
    page.fill("#category-filter", "pothole")
    sync_api.expect(page.locator("#id_category")).to_have_value(CATEGORY)

    choose_street(page)
    # The panel shows the caller's open cases (none yet) once a caller is chosen.
    sync_api.expect(page.locator("#intake-panel")).to_contain_text("Ana")
    page.fill("#id_description", "Groapă adâncă lângă trecerea de pietoni.")

    assert_accessible(page, exclude=["#pick-map"])

    page.click("#file-request")
    page.wait_for_url("**/staff/intake/filed/**")
    reference = page.locator("#case-reference").inner_text().strip()
    sync_api.expect(page.locator("main")).to_contain_text("Read it to the caller")

    case = Case.objects.get(reference=reference)
    assert case.requester_id == person.pk
    assert case.channel == "phone" and case.category.code == CATEGORY
    assert case.latitude and "Moților" in case.address_text
    assert "call-42" in case.interactions.get(direction="in").summary
