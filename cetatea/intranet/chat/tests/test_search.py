"""The message search: folded words, pages, the index on both databases."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cetatea.intranet.chat import selectors, services

from .conftest import login


@pytest.mark.parametrize("probe_limit", [2000, 3])  # SQLite: the index path, the walk path
def test_search_pages_newest_first(people, channels, monkeypatch, probe_limit):
    monkeypatch.setattr(selectors, "PROBE_LIMIT", probe_limit)
    ids = [
        services.chat_post(
            actor=people["staff"], channel_id=channels["roads"].pk, body=f"Ședința nr {i}"
        ).pk
        for i in range(5)
    ]
    services.chat_post(actor=people["staff"], channel_id=channels["roads"].pk, body="altceva")
    first = selectors.message_search(people["crew"], "sedinta", size=2)
    assert [m.pk for m in first.messages] == ids[:-3:-1]
    second = selectors.message_search(people["crew"], "SEDINȚA", size=2, before=first.older)
    assert [m.pk for m in second.messages] == [ids[2], ids[1]]
    third = selectors.message_search(people["crew"], "sedinta nr", size=2, before=second.older)
    assert [m.pk for m in third.messages] == [ids[0]] and third.older is None


def test_short_words_and_deleted_messages(people, channels):
    message = services.chat_post(
        actor=people["staff"], channel_id=channels["roads"].pk, body="ab cd"
    )
    assert selectors.message_search(people["crew"], "ab").error
    gone = services.chat_post(actor=people["staff"], channel_id=channels["roads"].pk, body="șters")
    services.chat_message_delete(actor=people["staff"], message_id=gone.pk)
    assert selectors.message_search(people["crew"], "sters").messages == []
    assert message.pk


def test_search_page(client, people, channels):
    services.chat_post(actor=people["staff"], channel_id=channels["roads"].pk, body="asfalt nou")
    login(client, people["crew"])
    page = client.get(reverse("chat:search"), {"q": "asfalt"}).content.decode()
    assert "asfalt nou" in page and "Drumuri" in page
    page = client.get(reverse("chat:search"), {"q": "a"}).content.decode()
    assert "at least one word of 3 letters" in page
    login(client, people["clerk"])
    page = client.get(reverse("chat:search"), {"q": "asfalt"}).content.decode()
    assert "asfalt nou" not in page and "No message found" in page
