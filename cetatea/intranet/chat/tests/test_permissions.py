"""Who reads which channel: a department's staff and invited people only; public topics
everyone; private channels and direct messages their members."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cetatea.intranet.chat import selectors, services
from cetatea.intranet.chat.choices import ChannelKind
from cetatea.intranet.chat.models import Membership, Message
from cetatea.intranet.chat.selectors import ChannelClosed

from .conftest import login


def test_department_channel_is_closed_to_other_departments(client, people, channels):
    services.chat_post(actor=people["staff"], channel_id=channels["roads"].pk, body="Asfalt azi")
    login(client, people["clerk"])
    response = client.get(reverse("chat:channel", args=[channels["roads"].pk]))
    assert response.status_code == 403
    assert b"closed to you" in response.content
    assert b"Asfalt" not in response.content
    login(client, people["crew"])
    response = client.get(reverse("chat:channel", args=[channels["roads"].pk]))
    assert response.status_code == 200
    assert "Asfalt azi" in response.content.decode()


def test_posting_to_a_channel_one_cannot_read_is_refused_and_saves_nothing(
    client, people, channels
):
    login(client, people["clerk"])
    url = reverse("chat:post", args=[channels["roads"].pk])
    response = client.post(url, {"body": "hello", "key": "k1"})
    assert response.status_code == 403
    assert b"closed to you" in response.content
    response = client.post(url, {"body": "hello", "key": "k2"}, HTTP_HX_REQUEST="true")
    assert b"closed to you" in response.content
    assert Message.objects.count() == 0
    with pytest.raises(ChannelClosed):
        services.chat_post(actor=people["clerk"], channel_id=channels["roads"].pk, body="x")
    assert Message.objects.count() == 0


def test_poll_of_a_closed_channel_is_refused(client, people, channels):
    services.chat_post(actor=people["staff"], channel_id=channels["roads"].pk, body="secret")
    login(client, people["clerk"])
    response = client.get(reverse("chat:poll", args=[channels["roads"].pk]) + "?after=0")
    assert response.status_code == 403
    assert b"secret" not in response.content


def test_search_finds_only_readable_channels(people, channels):
    services.chat_post(actor=people["staff"], channel_id=channels["roads"].pk, body="Groapa mare")
    services.chat_post(actor=people["clerk"], channel_id=channels["public"].pk, body="groapă mică")
    services.chat_post(actor=people["clerk"], channel_id=channels["lunch"].pk, body="fără groapa")
    found = selectors.message_search(people["clerk"], "groapa")
    assert sorted(m.body for m in found.messages) == ["fără groapa", "groapă mică"]
    found = selectors.message_search(people["staff"], "GROAPĂ")
    assert sorted(m.body for m in found.messages) == ["Groapa mare", "fără groapa"]
    assert selectors.message_search(people["manager"], "groapa").messages[0].body == "fără groapa"


def test_unread_counts_do_not_show_closed_channels(people, channels):
    services.chat_post(actor=people["staff"], channel_id=channels["roads"].pk, body="one")
    names = {e.channel.name for e in selectors.my_channels(people["clerk"])}
    assert "Drumuri" not in names
    panel = selectors.home_panel(people["clerk"])
    assert panel["total_unread"] == 0
    assert selectors.home_panel(people["crew"])["total_unread"] == 1


def test_invited_member_reads_a_department_channel(people, channels):
    services.chat_member_add(
        actor=people["staff"], channel_id=channels["roads"].pk, username="clerk"
    )
    channel, _m = selectors.access_channel(people["clerk"], channels["roads"].pk)
    assert channel == channels["roads"]
    services.chat_post(actor=people["clerk"], channel_id=channels["roads"].pk, body="guest")


def test_leaving_the_department_closes_its_channel(people, channels, catalog):
    services.chat_post(actor=people["crew"], channel_id=channels["roads"].pk, body="x")
    assert Membership.objects.filter(user=people["crew"], channel=channels["roads"]).exists()
    people["crew"].staff_profile.department = catalog["public"]
    people["crew"].staff_profile.save(update_fields=["department"])
    crew = type(people["crew"]).objects.get(pk=people["crew"].pk)  # no cached department
    with pytest.raises(ChannelClosed):
        selectors.access_channel(crew, channels["roads"].pk)


def test_private_channel_and_direct_messages_are_for_members(people, channels):
    private = services.chat_channel_create(
        actor=people["staff"], kind=ChannelKind.PRIVATE, name="Proiect", member_ids=[]
    )
    with pytest.raises(ChannelClosed):
        selectors.access_channel(people["crew"], private.pk)
    services.chat_member_add(actor=people["staff"], channel_id=private.pk, username="crew")
    selectors.access_channel(people["crew"], private.pk)

    dm = services.chat_direct_open(actor=people["staff"], user_ids=[people["clerk"].pk])
    assert services.chat_direct_open(actor=people["clerk"], user_ids=[people["staff"].pk]) == dm
    selectors.access_channel(people["clerk"], dm.pk)
    with pytest.raises(ChannelClosed):
        selectors.access_channel(people["crew"], dm.pk)
    with pytest.raises(ValidationError):
        services.chat_member_add(actor=people["staff"], channel_id=dm.pk, username="crew")


def test_non_staff_and_anonymous_are_refused(client, people, channels):
    url = reverse("chat:channel", args=[channels["lunch"].pk])
    assert client.get(url).status_code == 302  # to the login page
    login(client, people["citizen"])
    assert client.get(url).status_code == 403
    assert client.get(reverse("chat:index")).status_code == 403
    assert client.get(reverse("chat:search") + "?q=abc").status_code == 403


def test_attachment_download_needs_the_channel(client, people, channels):
    from django.core.files.uploadedfile import SimpleUploadedFile

    message = services.chat_post(
        actor=people["staff"],
        channel_id=channels["roads"].pk,
        body="plan",
        files=[SimpleUploadedFile("plan.pdf", b"%PDF-1.4 test")],
    )
    row = message.attachments.get()
    url = reverse("chat:attachment", args=[row.pk])
    login(client, people["clerk"])
    assert client.get(url).status_code == 403
    login(client, people["crew"])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    assert "attachment" in response["Content-Disposition"]


def test_direct_messages_have_at_most_eight_people(people, channels):
    from cetatea.core import roles
    from conftest import make_user

    others = [make_user(f"colleague{i}", roles.DEPARTMENT_STAFF).pk for i in range(8)]
    with pytest.raises(ValidationError, match="At most 8 people"):
        services.chat_direct_open(actor=people["staff"], user_ids=others)
    dm = services.chat_direct_open(actor=people["staff"], user_ids=others[:7])
    assert Membership.objects.filter(channel=dm).count() == 8
    with pytest.raises(ValidationError, match="at least one colleague"):
        services.chat_direct_open(actor=people["staff"], user_ids=[people["citizen"].pk])
