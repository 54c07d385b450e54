"""The public status page and the reports page in a real browser (headless Debian
Chromium, Playwright): a citizen opens the address of the receipt's QR code, then types a
wrong code; a manager opens the reports page and asks for a register with a bad period.
axe-core finds no WCAG 2.1 A/AA violation on any of them.

Reuses the portal's browser fixtures (live server, no network); skipped, like them,
when Chromium or Playwright is missing.
"""

from __future__ import annotations

import io

import pytest
import time_machine
from django.core.management import call_command

from cetatea.core.testing.browser import assert_accessible
from cetatea.portal.tests.test_browser import (  # noqa: F401, F811 (fixtures)
    page,
    site,
    sync_api,
)
from conftest import make_user

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def assert_no_axe_violation(pg, where: str) -> None:
    assert_accessible(pg)


@pytest.fixture
def registered(site):  # noqa: F811
    from cetatea.registry.models import DocumentType, RegistryPoint
    from cetatea.registry.services import registry_entry_register

    call_command("load_registry", stdout=io.StringIO())
    with time_machine.travel("2026-03-12 10:15:00+02:00", tick=False):
        return registry_entry_register(
            point=RegistryPoint.objects.get(code="rg"),
            doc_type=DocumentType.objects.get(code="petitie"),
            summary="Cerere privind trotuarul de pe str. Trandafirilor",
            sender_name="Popescu Ion",
            sender_address="Str. Trandafirilor 3",
        )


def test_a_citizen_checks_the_status_from_the_qr_code_and_with_a_wrong_code(
    page,  # noqa: F811
    site,  # noqa: F811
    registered,
):
    from cetatea.registry.documents import public_status_url

    page.context.add_cookies([{"name": "django_language", "value": "en", "url": site.url}])
    path = public_status_url(registered).split("/registratura/", 1)[1]
    page.goto(f"{site.url}/registratura/{path}")
    result = page.locator("#status-result")
    sync_api.expect(result).to_contain_text(registered.display_number)
    sync_api.expect(result).to_contain_text("Being solved")
    sync_api.expect(page.locator("main")).not_to_contain_text("Popescu")
    assert_no_axe_violation(page, "the status of an entry")

    page.fill("#id_n", registered.display_number)
    page.fill("#id_c", "WRONG234")
    page.click("form.stack button[type=submit]")
    sync_api.expect(page.locator("#status-not-found")).to_be_visible()
    sync_api.expect(page.locator("#status-result")).to_have_count(0)
    assert_no_axe_violation(page, "a wrong code")

    page.fill("#id_n", "twelve")
    page.click("form.stack button[type=submit]")
    sync_api.expect(page.locator("#error-summary")).to_contain_text("RG-12/2026")
    assert_no_axe_violation(page, "a malformed number")


def test_a_manager_opens_the_reports_and_asks_for_a_bad_register_period(
    page,  # noqa: F811
    site,  # noqa: F811
    registered,
):
    from cetatea.core import roles

    make_user("sefa", roles.MANAGER)
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": site.url}])
    page.goto(site.url + "/login/?next=/staff/registry/reports/")
    page.fill("#id_username", "sefa")
    page.fill("#id_password", "correct-horse-9")
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/staff/registry/reports/")
    sync_api.expect(page.locator("h1")).to_have_text("Registry reports")
    assert_no_axe_violation(page, "the reports page")

    page.click("text=Print the register of a registry point for a period (PDF)")
    page.wait_for_url("**/staff/registry/register.pdf")
    page.fill("#id_date_from", "2026-03-31")
    page.fill("#id_date_to", "2026-03-01")
    page.click("form.stack button[type=submit]")
    sync_api.expect(page.locator("main [role=alert]")).to_contain_text("before its start")
    assert_no_axe_violation(page, "the register form with an error")
