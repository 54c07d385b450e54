"""The operator's call screen in a real browser (headless Chromium, Playwright).

A newCall posted to the CTI endpoint opens the caller's record on the operator's open
screen within a poll or two, and the live region announces it; an unknown caller gets
the new-person form, and what the operator types in it survives the screen's refreshes.
axe-core finds no WCAG 2.1 A/AA violation on the screen. Skipped when Chromium or
Playwright is missing (see scripts/browser-deps.sh).
"""

from __future__ import annotations

import pytest
from django.test import Client

from cetatea.core.testing.browser import assert_accessible, require_browser
from conftest import make_person

TOKEN = "browser-cti-token"

pytestmark = [pytest.mark.slow, pytest.mark.browser]

require_browser()

from playwright.sync_api import expect  # noqa: E402 (after the skip check above)


@pytest.fixture
def operator_page(open_page, personas, settings):
    settings.CETATEA_CTI_TOKEN = TOKEN
    # The staff interface in English (the default), which the assertions read.
    return open_page(personas["operator"], "/staff/calls/")


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
    expect(page.locator("#call-announcer")).to_contain_text("Ionescu Maria")
    assert "Incoming call from Ionescu Maria" in page.inner_text("#call-announcer")
    assert page.get_by_role("heading", name="Ionescu Maria").is_visible()
    assert_accessible(page)


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
    expect(page.locator("#call-announcer")).to_contain_text("Call in progress")
    assert page.input_value("#id_last_name") == "Nou"
