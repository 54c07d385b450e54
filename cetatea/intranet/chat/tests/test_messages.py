"""Delivery, unread counts, mentions, the poll, editing, files and double submits."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cetatea.intranet.chat import selectors, services
from cetatea.intranet.chat.models import Attachment, Mention, Message

from .conftest import login


def unread(user, channel) -> int:
    return {e.channel.pk: e.unread for e in selectors.my_channels(user)}.get(channel.pk, 0)


def test_a_message_reaches_the_other_member_and_counts_as_unread(client, people, channels):
    roads = channels["roads"]
    login(client, people["staff"])
    response = client.post(
        reverse("chat:post", args=[roads.pk]), {"body": "Plecăm la 8", "key": "a"}
    )
    assert response.status_code == 302
    assert unread(people["crew"], roads) == 1
    assert unread(people["staff"], roads) == 0  # one's own message is read
    services.chat_post(actor=people["staff"], channel_id=roads.pk, body="Și la 9")
    assert unread(people["crew"], roads) == 2
    assert selectors.home_panel(people["crew"])["total_unread"] == 2

    login(client, people["crew"])
    page = client.get(reverse("chat:channel", args=[roads.pk])).content.decode()
    assert "Plecăm la 8" in page and "Și la 9" in page
    assert unread(people["crew"], roads) == 0  # viewing marks the channel read
    services.chat_post(actor=people["staff"], channel_id=roads.pk, body="Și la 10")
    assert unread(people["crew"], roads) == 1


def test_unread_count_is_capped(people, channels):
    for i in range(selectors.UNREAD_CAP + 5):
        services.chat_post(actor=people["staff"], channel_id=channels["roads"].pk, body=f"m{i}")
    entry = next(e for e in selectors.my_channels(people["crew"]) if e.channel == channels["roads"])
    assert entry.unread == selectors.UNREAD_CAP
    assert entry.unread_label == "99+"


def test_public_channel_counts_only_for_those_who_joined(people, channels):
    lunch = channels["lunch"]
    services.chat_post(actor=people["staff"], channel_id=lunch.pk, body="pizza?")
    assert unread(people["clerk"], lunch) == 0
    services.chat_join(actor=people["clerk"], channel_id=lunch.pk)
    services.chat_post(actor=people["staff"], channel_id=lunch.pk, body="la 12")
    assert unread(people["clerk"], lunch) == 2


def test_mentions_are_recorded_and_highlighted(client, people, channels):
    roads = channels["roads"]
    message = services.chat_post(
        actor=people["staff"],
        channel_id=roads.pk,
        body="@crew vezi https://example.org/a?b=1. și @clerk <b>bold</b>",
    )
    # clerk cannot read the Roads channel: no mention for them.
    assert list(Mention.objects.values_list("user__username", flat=True)) == ["crew"]
    panel = selectors.home_panel(people["crew"])
    assert [m.message_id for m in panel["mentions"]] == [message.pk]
    login(client, people["crew"])
    page = client.get(reverse("chat:channel", args=[roads.pk])).content.decode()
    assert '<strong class="mention mention-me">@crew</strong>' in page
    assert "Mentions you" in page
    assert (
        '<a href="https://example.org/a?b=1" rel="noopener noreferrer nofollow">'
        "https://example.org/a?b=1</a>." in page
    )
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page


def test_javascript_links_are_not_made_clickable(client, people, channels):
    services.chat_post(
        actor=people["staff"], channel_id=channels["roads"].pk, body='javascript:alert(1) "x'
    )
    login(client, people["crew"])
    page = client.get(reverse("chat:channel", args=[channels["roads"].pk])).content.decode()
    assert 'href="javascript' not in page


def test_poll_returns_only_new_messages_and_204_when_none(client, people, channels):
    roads = channels["roads"]
    first = services.chat_post(actor=people["staff"], channel_id=roads.pk, body="unu")
    login(client, people["crew"])
    url = reverse("chat:poll", args=[roads.pk])
    response = client.get(f"{url}?after={first.pk}")
    assert response.status_code == 204
    second = services.chat_post(actor=people["staff"], channel_id=roads.pk, body="doi")
    third = services.chat_post(actor=people["staff"], channel_id=roads.pk, body="trei")
    response = client.get(f"{url}?after={first.pk}", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r'<li id="m-(\d+)"', html) == [str(second.pk), str(third.pk)]
    assert "unu" not in html
    # the poller moves past the newest one (out of band)
    assert f"?after={third.pk}" in html and 'hx-swap-oob="true"' in html
    assert client.get(f"{url}?after={third.pk}").status_code == 204
    assert unread(people["crew"], roads) == 0


def test_htmx_post_returns_the_new_message_and_clears_the_form(client, people, channels):
    roads = channels["roads"]
    before = services.chat_post(actor=people["crew"], channel_id=roads.pk, body="înainte")
    login(client, people["staff"])
    response = client.post(
        reverse("chat:post", args=[roads.pk]),
        {"body": "gata", "key": "k-1", "after": before.pk},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    message = Message.objects.get(body="gata")
    assert re.findall(r'<li id="m-(\d+)"', html) == [str(message.pk)]
    assert re.search(r'<textarea[^>]*hx-swap-oob="true"[^>]*></textarea>', html)
    new_key = re.search(r'name="key" id="id_key" value="([^"]+)"', html).group(1)
    assert new_key and new_key != "k-1"


def test_double_submit_posts_one_message(client, people, channels):
    login(client, people["staff"])
    url = reverse("chat:post", args=[channels["roads"].pk])
    for _ in range(2):
        client.post(url, {"body": "o dată", "key": "same-key"}, HTTP_HX_REQUEST="true")
    client.post(url, {"body": "o dată", "key": "same-key"})
    assert Message.objects.filter(body="o dată").count() == 1


def test_empty_message_is_refused_with_a_clear_error(client, people, channels):
    login(client, people["staff"])
    url = reverse("chat:post", args=[channels["roads"].pk])
    response = client.post(url, {"body": "   ", "key": "e"}, HTTP_HX_REQUEST="true")
    assert b"Write a message or attach a file." in response.content
    response = client.post(url, {"body": "", "key": "e2"})
    assert response.status_code == 400
    assert b"Write a message or attach a file." in response.content
    assert Message.objects.count() == 0


def test_author_edits_and_deletes_within_the_window_only(client, people, channels, settings):
    roads = channels["roads"]
    message = services.chat_post(actor=people["staff"], channel_id=roads.pk, body="greșit")
    with pytest.raises(PermissionDenied):
        services.chat_message_edit(actor=people["crew"], message_id=message.pk, body="hack")
    services.chat_message_edit(actor=people["staff"], message_id=message.pk, body="corect @crew")
    message.refresh_from_db()
    assert message.body == "corect @crew" and message.edited_at is not None
    assert Mention.objects.filter(message=message, user=people["crew"]).exists()

    old = services.chat_post(actor=people["staff"], channel_id=roads.pk, body="vechi")
    settings.CETATEA_CHAT_EDIT_MINUTES = 15
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(minutes=16))
    with pytest.raises(PermissionDenied, match="within"):
        services.chat_message_edit(actor=people["staff"], message_id=old.pk, body="nou")
    login(client, people["staff"])
    response = client.post(reverse("chat:message_delete", args=[old.pk]))
    assert response.status_code == 403
    assert Message.objects.get(pk=old.pk).deleted_at is None

    response = client.post(reverse("chat:message_delete", args=[message.pk]))
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.deleted_at is not None and message.body == ""
    page = client.get(reverse("chat:channel", args=[roads.pk])).content.decode()
    assert "Message deleted." in page and "corect" not in page


def test_edit_page_changes_the_message(client, people, channels):
    message = services.chat_post(actor=people["staff"], channel_id=channels["roads"].pk, body="a")
    login(client, people["staff"])
    url = reverse("chat:message_edit", args=[message.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"body": ""}).status_code == 400
    assert client.post(url, {"body": "b"}).status_code == 302
    message.refresh_from_db()
    assert message.body == "b"


def test_files_are_stored_privately_and_bad_ones_refused(client, people, channels, settings):
    roads = channels["roads"]
    login(client, people["staff"])
    url = reverse("chat:post", args=[roads.pk])
    # A program renamed to .pdf is recognised by its content.
    response = client.post(
        url,
        {"body": "vezi", "key": "f1", "files": [SimpleUploadedFile("plan.pdf", b"MZ\x90\x00rest")]},
        HTTP_HX_REQUEST="true",
    )
    assert "is a program, a script or a web page" in response.content.decode()
    response = client.post(
        url, {"body": "vezi", "key": "f2", "files": [SimpleUploadedFile("run.sh", b"echo")]}
    )
    assert response.status_code == 400 and "Files of type .sh" in response.content.decode()
    settings.CETATEA_CHAT_MAX_FILE_BYTES = 10
    response = client.post(
        url,
        {"body": "mare", "key": "f3", "files": [SimpleUploadedFile("a.txt", b"x" * 11)]},
        HTTP_HX_REQUEST="true",
    )
    assert "is larger than" in response.content.decode()
    assert Message.objects.count() == 0 and Attachment.objects.count() == 0
    settings.CETATEA_CHAT_MAX_FILE_BYTES = 1000
    files = [SimpleUploadedFile("notă.txt", b"hello"), SimpleUploadedFile("b.odt", b"PK\x03\x04")]
    client.post(url, {"body": "", "key": "f4", "files": files})
    rows = list(Attachment.objects.order_by("pk"))
    assert [r.original_name for r in rows] == ["notă.txt", "b.odt"]
    private = settings.STORAGES["private"]["OPTIONS"]["location"]
    assert (private / rows[0].file.name).read_bytes() == b"hello"
    assert not str(rows[0].file.name).endswith("notă.txt")  # a random stored name


def test_too_many_files_are_refused(people, channels):
    files = [SimpleUploadedFile(f"{i}.txt", b"x") for i in range(services.MAX_FILES + 1)]
    with pytest.raises(ValidationError, match="At most"):
        services.chat_post(
            actor=people["staff"], channel_id=channels["roads"].pk, body="x", files=files
        )
    assert Message.objects.count() == 0


def test_older_page_uses_the_id_cursor(client, people, channels, django_assert_max_num_queries):
    roads = channels["roads"]
    ids = [
        services.chat_post(actor=people["staff"], channel_id=roads.pk, body=f"nr {i}").pk
        for i in range(selectors.PAGE_SIZE + 3)
    ]
    page = selectors.channel_page(roads)
    assert [m.pk for m in page.messages] == ids[3:]
    assert page.older == ids[3]
    older = selectors.channel_page(roads, before=page.older)
    assert [m.pk for m in older.messages] == ids[:3] and older.older is None
    login(client, people["crew"])
    with django_assert_max_num_queries(20):
        response = client.get(reverse("chat:channel", args=[roads.pk]))
    assert f"?before={ids[3]}" in response.content.decode()


def test_index_lists_channels_with_unread_and_creates_channels(client, people, channels):
    services.chat_post(actor=people["staff"], channel_id=channels["roads"].pk, body="x")
    login(client, people["crew"])
    page = client.get(reverse("chat:index")).content.decode()
    assert "Drumuri" in page and "1 unread" in page and "Lunch" in page
    response = client.post(reverse("chat:channel_create"), {"name": "Iarna", "kind": "private"})
    assert response.status_code == 302
    response = client.post(reverse("chat:channel_create"), {"name": "", "kind": "public"})
    assert response.status_code == 400
    response = client.post(reverse("chat:direct"), {"people": "staff, nobody"})
    assert response.status_code == 400 and "nobody" in response.content.decode()
    response = client.post(reverse("chat:direct"), {"people": "@staff"})
    assert response.status_code == 302


def test_home_panel_template_renders(people, channels):
    from django.template.loader import render_to_string

    services.chat_post(actor=people["staff"], channel_id=channels["roads"].pk, body="@crew hi")
    html = render_to_string(
        "chat/_home_panel.html", {"panel": selectors.home_panel(people["crew"])}
    )
    assert 'aria-labelledby="chat-panel-heading"' in html
    assert "1 unread message" in html and "Latest mentions" in html
