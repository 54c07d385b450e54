"""The staff console in a real browser (headless Debian Chromium, Playwright): a
department worker signs in, opens the queue, opens a case, sees its point on the
mini-map (Leaflet's tiles and marker), writes an internal note and sends a failed
message again. axe-core finds no WCAG 2.1 A/AA violation on the queue or the case page.

Reuses the portal's browser fixtures (live server with the real catalogue, map tiles from
the live server, no network); skipped, like them, when Chromium or Playwright is missing.
"""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from cetatea.core.testing.browser import assert_accessible
from cetatea.portal.tests.test_browser import (  # noqa: F401, F811 (fixtures)
    CATEGORY,
    page,
    site,
    sync_api,
)
from conftest import make_case, make_user

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TITLE = "Groapă adâncă pe Calea Moților"


@pytest.fixture
def worker_case(site, settings):  # noqa: F811
    """A department worker of the category's department, and a case with a point whose
    acknowledgement e-mail the mail server refused."""
    from cetatea.cases.services import Contact
    from cetatea.catalog.models import Category, StaffProfile
    from cetatea.core import roles
    from cetatea.notify.models import Notification

    user = make_user("lucrator", roles.DEPARTMENT_STAFF, first_name="Ana", last_name="Pop")
    department = Category.objects.get(code=CATEGORY).department
    StaffProfile.objects.create(user=user, department=department)
    lat, lon = django_settings.CETATEA_MAP_CENTER
    settings.EMAIL_BACKEND = "cetatea.notify.tests.test_resend.RefusingBackend"
    case = make_case(
        channel="phone",
        category=CATEGORY,
        title=TITLE,
        description="Lângă trecerea de pietoni.",
        latitude=lat,
        longitude=lon,
        address_text="Calea Moților 5",
        contact=Contact(name="Ion", email="ion@example.ro"),
    )
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert Notification.objects.get(case=case).status == "failed"
    return user, case


@pytest.fixture
def worker_page(page, site, worker_case):  # noqa: F811
    # The staff interface in English, which the assertions read.
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": site.url}])
    page.goto(site.url + "/login/?next=/staff/queue/")
    page.fill("#id_username", "lucrator")
    page.fill("#id_password", "correct-horse-9")
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/staff/queue/**")
    return page


def assert_no_axe_violation(pg, where: str) -> None:
    assert_accessible(pg)


def test_a_worker_opens_a_case_from_the_queue_sees_its_map_and_writes_a_note(
    worker_page, worker_case
):
    from django.core import mail

    from cetatea.cases.models import CaseEvent
    from cetatea.notify.models import Notification

    page = worker_page  # noqa: F811
    _user, case = worker_case

    # The queue: the department's case, and no WCAG A/AA violation.
    link = page.get_by_role("link", name=case.reference)
    sync_api.expect(link).to_be_visible()
    assert_no_axe_violation(page, "the queue")

    link.click()
    page.wait_for_url(f"**/staff/cases/{case.pk}/")
    sync_api.expect(page.locator("h1")).to_contain_text(TITLE)

    # The mini-map: Leaflet built the map, asked for its tiles and put the marker on it.
    page.wait_for_selector("#case-map.leaflet-container")
    sync_api.expect(page.locator("#case-map .leaflet-marker-icon")).to_have_count(1)
    assert page.locator("#case-map img.leaflet-tile").count() > 0
    assert page.locator("#case-map").get_attribute("aria-label")
    # Its text alternative: the coordinates, a link to OpenStreetMap.
    coordinates = page.locator("#case-coordinates")
    sync_api.expect(coordinates).to_have_text(f"{case.latitude:.5f}, {case.longitude:.5f}")
    assert coordinates.get_attribute("href").startswith("https://www.openstreetmap.org/")
    assert_no_axe_violation(page, "the case page")

    # An internal note (the "public" box left unticked).
    page.fill("#id_note-text", "Echipa de intervenție merge mâine dimineață.")
    sync_api.expect(page.locator("#id_note-public")).not_to_be_checked()
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"**/staff/cases/{case.pk}/")
    sync_api.expect(page.locator("ul.messages")).to_contain_text("The note was recorded.")
    sync_api.expect(page.locator("#history")).to_contain_text("Echipa de intervenție")
    note = CaseEvent.objects.get(case=case, kind="internal_note", actor__username="lucrator")
    assert note.text == "Echipa de intervenție merge mâine dimineață."
    assert not note.is_public

    # The failed e-mail, sent again from its row: sent once, and the page says so.
    page.get_by_role("button", name="Send again").click()
    page.wait_for_url(f"**/staff/cases/{case.pk}/")
    sync_api.expect(page.locator("ul.messages")).to_contain_text("will be sent again")
    notification = Notification.objects.get(case=case)
    assert notification.status == "sent"
    assert [m.to for m in mail.outbox] == [["ion@example.ro"]]
    sync_api.expect(page.get_by_role("button", name="Send again")).to_have_count(0)
    assert_no_axe_violation(page, "the case page after the actions")
