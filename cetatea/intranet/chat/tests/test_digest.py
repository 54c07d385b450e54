"""The e-mail of missed messages: settings, delay, and each message mailed once."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from cetatea.intranet.chat import services
from cetatea.intranet.chat.digest import chat_digest_send
from cetatea.intranet.chat.models import ChatSettings, Message

from .conftest import login


def age(message, minutes: int) -> None:
    Message.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=minutes)
    )


def with_emails(people):
    for key in ("staff", "crew", "clerk", "operator"):
        people[key].email = f"{key}@primarie.test"
        people[key].save(update_fields=["email"])


def test_mentions_and_direct_messages_are_mailed_once(people, channels):
    with_emails(people)
    roads = channels["roads"]
    mention = services.chat_post(actor=people["staff"], channel_id=roads.pk, body="@crew vino")
    plain = services.chat_post(actor=people["staff"], channel_id=roads.pk, body="fără nume")
    dm = services.chat_direct_open(actor=people["clerk"], user_ids=[people["crew"].pk])
    direct = services.chat_post(actor=people["clerk"], channel_id=dm.pk, body="salut direct")
    for m in (mention, plain, direct):
        age(m, 20)
    assert chat_digest_send() == 1
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["crew@primarie.test"]
    assert "@crew vino" in email.body and "salut direct" in email.body
    assert "fără nume" not in email.body  # default: mentions and direct messages only
    assert f"/staff/intranet/messages/c/{roads.pk}/" in email.body
    # Again: nothing new to mail.
    assert chat_digest_send() == 0
    call_command("chat_digest", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert len(mail.outbox) == 1


def test_recent_and_read_messages_are_not_mailed(client, people, channels):
    with_emails(people)
    roads = channels["roads"]
    recent = services.chat_post(actor=people["staff"], channel_id=roads.pk, body="@crew acum")
    age(recent, 5)  # within the default delay of 15 minutes
    assert chat_digest_send() == 0
    read = services.chat_post(actor=people["staff"], channel_id=roads.pk, body="@crew citit")
    age(read, 30)
    age(recent, 30)
    login(client, people["crew"])
    client.get(reverse("chat:channel", args=[roads.pk]))  # crew reads the channel
    assert chat_digest_send() == 0
    assert mail.outbox == []


def test_settings_off_and_everything(client, people, channels):
    with_emails(people)
    roads = channels["roads"]
    login(client, people["crew"])
    response = client.post(reverse("chat:settings"), {"email_mode": "off", "delay_minutes": 5})
    assert response.status_code == 302
    m = services.chat_post(actor=people["staff"], channel_id=roads.pk, body="@crew oprit")
    age(m, 10)
    assert chat_digest_send() == 0
    response = client.post(reverse("chat:settings"), {"email_mode": "all", "delay_minutes": 5})
    assert ChatSettings.objects.get(user=people["crew"]).email_mode == "all"
    other = services.chat_post(actor=people["staff"], channel_id=roads.pk, body="tot restul")
    age(other, 10)
    assert chat_digest_send() == 1
    assert "tot restul" in mail.outbox[0].body
    # "oprit" was sent while the e-mails were off, before the pointer moved: still
    # unread, so "everything" lists it now — but never twice.
    assert chat_digest_send() == 0


def test_settings_form_refuses_unknown_values(client, people):
    login(client, people["crew"])
    response = client.post(reverse("chat:settings"), {"email_mode": "sms", "delay_minutes": 7})
    assert response.status_code == 400
    assert not ChatSettings.objects.filter(user=people["crew"]).exists()
