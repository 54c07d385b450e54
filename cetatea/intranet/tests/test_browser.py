"""The intranet's home in a real browser: axe-core finds no WCAG 2.1 A/AA violation.

Skipped when Chromium or Playwright is missing (see scripts/browser-deps.sh), like
cetatea/telephony/tests/test_browser.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cetatea.cases.models import Case
from cetatea.core.testing.browser import assert_accessible, require_browser
from cetatea.intranet import services
from conftest import make_case

pytestmark = [pytest.mark.slow, pytest.mark.browser]

require_browser()


@pytest.fixture
def staff_page(open_page, staffed):
    return open_page(staffed["staff"], locale="ro-RO", language=None, page_errors=False)


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
    assert_accessible(staff_page)
