"""Two people in a channel, in a real browser (headless Chromium, Playwright).

One posts: the message appears at once on their page and the box is emptied; the other
sees it appear within a poll or two, without reloading. axe-core finds no WCAG 2.1
A/AA violation on the channel page. Skipped when Chromium or Playwright is missing
(see scripts/browser-deps.sh).
"""

from __future__ import annotations

import pytest

from cetatea.core.testing.browser import assert_accessible, require_browser
from cetatea.intranet.chat.models import Message

pytestmark = [pytest.mark.slow, pytest.mark.browser]

require_browser()


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

    assert_accessible(reader)
