"""“Send again” on the case page: a failed message goes back in the queue once, is sent
after commit like a new one, and a message sent or already queued is never sent twice."""

from __future__ import annotations

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from cetatea.cases.models import CaseEvent, Interaction
from cetatea.cases.services import Contact
from cetatea.notify import services
from cetatea.notify.models import Notification
from conftest import make_case

MOBILE = "+40722123456"


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that refuses the recipient (a permanent failure)."""

    def send_messages(self, email_messages):
        refused = {to: (550, b"No such user") for m in email_messages for to in m.to}
        raise smtplib.SMTPRecipientsRefused(refused)


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def failed_email(catalog, settings):
    """An acknowledgement e-mail the mail server refused for good."""
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    case = make_case(channel="phone", contact=Contact(email="ana@example.ro"))
    notification = services.notification_send(
        notification_id=Notification.objects.get(case=case).pk
    )
    assert notification.status == "failed" and "No such user" in notification.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return notification


@pytest.fixture
def failed_sms(catalog, settings):
    """An acknowledgement SMS that failed at once: the gateway was not configured."""
    settings.CETATEA_SMS_BACKEND = "cetatea.notify.sms.TwilioBackend"
    settings.CETATEA_TWILIO_ACCOUNT_SID = ""
    case = make_case(channel="phone", contact=Contact(phone=MOBILE))
    notification = services.notification_send(
        notification_id=Notification.objects.get(case=case).pk
    )
    assert notification.status == "failed"
    settings.CETATEA_SMS_BACKEND = "cetatea.notify.sms.LoggingBackend"
    return notification


def resend(client, notification, **kwargs):
    return client.post(reverse("notify:resend", args=[notification.pk]), **kwargs)


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_failed_email_is_sent_again_and_becomes_sent(
    client, personas, failed_email, django_capture_on_commit_callbacks
):
    client.force_login(personas["staff"])
    with django_capture_on_commit_callbacks(execute=True):
        response = resend(client, failed_email)
    assert response.status_code == 302
    assert response["Location"] == reverse("console:case", args=[failed_email.case_id])

    failed_email.refresh_from_db()
    assert failed_email.status == "sent" and failed_email.sent_at is not None
    assert failed_email.attempts == 1 and failed_email.last_error == ""
    assert [m.to for m in mail.outbox] == [["ana@example.ro"]]
    assert failed_email.interaction.direction == "out"
    # The case's history says who asked for it, with the error that made it fail.
    event = CaseEvent.objects.get(case=failed_email.case, data__resent_notification__isnull=False)
    assert event.actor == personas["staff"] and not event.is_public
    assert event.data["recipient"] == "ana@example.ro"
    assert "No such user" in event.data["previous_error"]

    page = client.get(response["Location"])
    assert "The message was queued and will be sent again shortly." in page_messages(page)
    html = page.content.decode()
    assert "The e-mail to ana@example.ro was queued to be sent again." in html


def test_a_failed_sms_is_sent_again_through_the_gateway(
    client, personas, failed_sms, django_capture_on_commit_callbacks
):
    client.force_login(personas["manager"])
    with django_capture_on_commit_callbacks(execute=True):
        resend(client, failed_sms)
    failed_sms.refresh_from_db()
    assert failed_sms.status == "sent" and failed_sms.provider_id.startswith("log-")
    assert failed_sms.interaction.channel == "sms"


def test_a_double_submit_sends_the_message_once(
    client, personas, failed_email, django_capture_on_commit_callbacks
):
    client.force_login(personas["staff"])
    with django_capture_on_commit_callbacks(execute=True):
        client.get(resend(client, failed_email)["Location"])  # the success message is read
    with django_capture_on_commit_callbacks(execute=True):
        second = resend(client, failed_email, follow=True)
    assert len(mail.outbox) == 1
    assert page_messages(second) == ["This message was already sent; it is not sent again."]
    assert CaseEvent.objects.filter(data__resent_notification=failed_email.pk).count() == 1
    assert Interaction.objects.filter(case=failed_email.case, direction="out").count() == 1


def test_a_message_queued_again_is_not_queued_twice(
    client, personas, failed_email, django_capture_on_commit_callbacks
):
    """The second press comes before the worker ran: refused, and the worker sends once."""
    client.force_login(personas["staff"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        resend(client, failed_email)
        second = resend(client, failed_email, follow=True)
    assert "This message is already waiting to be sent; it will not be sent twice." in (
        page_messages(second)
    )
    assert len(callbacks) == 1
    callbacks[0]()
    services.notifications_retry()
    assert len(mail.outbox) == 1
    failed_email.refresh_from_db()
    assert failed_email.status == "sent"


def test_a_sent_message_cannot_be_sent_again(client, personas, catalog):
    case = make_case(channel="phone", contact=Contact(email="ana@example.ro"))
    notification = services.notification_send(
        notification_id=Notification.objects.get(case=case).pk
    )
    assert notification.status == "sent" and len(mail.outbox) == 1
    client.force_login(personas["staff"])
    response = resend(client, notification, follow=True)
    assert "This message was already sent; it is not sent again." in page_messages(response)
    assert len(mail.outbox) == 1
    assert not CaseEvent.objects.filter(data__resent_notification=notification.pk).exists()
    # The case page offers no button for it.
    assert reverse("notify:resend", args=[notification.pk]) not in response.content.decode()


def test_the_message_goes_to_the_corrected_address(
    client, personas, failed_email, django_capture_on_commit_callbacks
):
    case = failed_email.case
    case.contact_email = "ana.corect@example.ro"
    case.save(update_fields=["contact_email"])
    client.force_login(personas["staff"])
    with django_capture_on_commit_callbacks(execute=True):
        resend(client, failed_email)
    assert [m.to for m in mail.outbox] == [["ana.corect@example.ro"]]
    failed_email.refresh_from_db()
    assert failed_email.recipient == "ana.corect@example.ro"
    event = CaseEvent.objects.get(data__resent_notification=failed_email.pk)
    assert event.data["previous_recipient"] == "ana@example.ro"


@pytest.mark.parametrize(("who", "status"), [("citizen", 403), ("operator", 403)])
def test_a_role_that_cannot_work_cases_cannot_send_again(
    client, personas, failed_email, who, status
):
    client.force_login(personas[who])
    assert resend(client, failed_email).status_code == status
    failed_email.refresh_from_db()
    assert failed_email.status == "failed" and failed_email.attempts == 1
    assert mail.outbox == []


def test_send_again_needs_a_signed_in_post_and_an_existing_message(client, personas, failed_email):
    response = resend(client, failed_email)
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(personas["staff"])
    assert client.get(reverse("notify:resend", args=[failed_email.pk])).status_code == 405
    assert client.post(reverse("notify:resend", args=[failed_email.pk + 999])).status_code == 404
    failed_email.refresh_from_db()
    assert failed_email.status == "failed"


def test_send_again_is_csrf_protected(personas, failed_email):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["staff"])
    assert resend(client, failed_email).status_code == 403
    failed_email.refresh_from_db()
    assert failed_email.status == "failed"


def test_the_case_page_has_a_button_next_to_each_failed_message_only(
    client, personas, failed_email
):
    case = failed_email.case
    sent = Notification.objects.create(
        case=case, kind="reply", channel="email", recipient="ana@example.ro", body="Gata."
    )
    Notification.objects.filter(pk=sent.pk).update(status="sent")
    client.force_login(personas["staff"])
    html = client.get(reverse("console:case", args=[case.pk])).content.decode()
    assert f'action="{reverse("notify:resend", args=[failed_email.pk])}"' in html
    assert reverse("notify:resend", args=[sent.pk]) not in html
    assert "Send again" in html
    # Those who cannot work the case see the failure, not the button.
    client.force_login(personas["operator"])
    html = client.get(reverse("console:case", args=[case.pk])).content.decode()
    assert "No such user" in html
    assert reverse("notify:resend", args=[failed_email.pk]) not in html


def test_the_button_is_in_romanian_by_default(client, personas, failed_email):
    client.cookies.pop("django_language")
    client.force_login(personas["staff"])
    html = client.get(reverse("console:case", args=[failed_email.case_id])).content.decode()
    assert "Trimite din nou" in html
