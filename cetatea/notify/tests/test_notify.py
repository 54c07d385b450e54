"""Notifications out: queued with the change, sent after commit, retried, each an
Interaction; a provider that fails is tried again, then the failure shows on the case."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cetatea.cases.models import Interaction
from cetatea.cases.services import Contact, case_add_note, case_change_status
from cetatea.notify import services
from cetatea.notify.models import Notification, Preference
from conftest import make_case, make_person

MOBILE = "+40722123456"
LANDLINE = "+40258811000"


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def citizen(db):
    return make_person(emails=["ion.popescu@example.ro"], phones=[MOBILE])


class Provider:
    """A Twilio-like HTTP API on loopback that records what it receives."""

    def __init__(self, status: int = 201, delay: float = 0.0):
        self.status = status
        self.delay = delay
        self.requests: list[dict] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                provider.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "form": body}
                )
                if provider.delay:
                    time.sleep(provider.delay)
                if provider.status == 201:
                    payload = {"sid": f"SM{len(provider.requests):032d}", "status": "queued"}
                else:
                    payload = {"code": 20500, "message": "Internal Server Error"}
                data = json.dumps(payload).encode()
                try:
                    self.send_response(provider.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def twilio(settings):
    settings.CETATEA_SMS_BACKEND = "cetatea.notify.sms.TwilioBackend"
    settings.CETATEA_TWILIO_ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
    settings.CETATEA_TWILIO_AUTH_TOKEN = "secret-token"
    settings.CETATEA_SMS_FROM = "+40700000000"
    settings.CETATEA_SMS_TIMEOUT = 1

    def start(status=201, delay=0.0):
        provider = Provider(status, delay)
        settings.CETATEA_TWILIO_BASE_URL = provider.url
        return provider

    return start


# --- after commit, as an Interaction -------------------------------------------------------


def test_acknowledgement_is_sent_after_commit_by_email_and_sms(
    catalog, personas, citizen, immediate_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = make_case(channel="phone", requester=citizen, actor=personas["operator"])
    # Queued with the case, nothing sent before the commit.
    assert mail.outbox == []
    queued = list(Notification.objects.filter(case=case).order_by("channel"))
    assert [(n.kind, n.channel, n.status) for n in queued] == [
        ("acknowledgement", "email", "queued"),
        ("acknowledgement", "sms", "queued"),
    ]
    for callback in callbacks:
        callback()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ion.popescu@example.ro"]
    assert case.reference in message.subject and case.reference in message.body
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    sent = {n.channel: n for n in Notification.objects.filter(case=case)}
    assert {n.status for n in sent.values()} == {"sent"}
    assert sent["sms"].recipient == MOBILE and case.reference in sent["sms"].body
    assert sent["sms"].provider_id.startswith("log-")
    for channel, notification in sent.items():
        interaction = notification.interaction
        assert interaction.channel == channel
        assert interaction.direction == "out"
        assert interaction.handler == "system"
        assert interaction.case_id == case.pk and interaction.person_id == citizen.pk
        assert interaction.external_id == f"notification:{notification.pk}"
        assert notification.body in interaction.summary


def test_nothing_is_queued_or_sent_when_the_change_rolls_back(
    catalog, citizen, immediate_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            make_case(channel="phone", requester=citizen)
            raise RuntimeError("the operator's request failed after the case was written")
    assert callbacks == []
    assert Notification.objects.count() == 0
    assert mail.outbox == []
    assert not Interaction.objects.filter(direction="out").exists()


def test_status_change_and_public_reply_are_told(
    catalog, personas, citizen, immediate_tasks, django_capture_on_commit_callbacks
):
    case = make_case(channel="counter", requester=citizen)
    staff = personas["staff"]
    with django_capture_on_commit_callbacks(execute=True):
        case_change_status(
            case_id=case.pk, status="in_progress", actor=staff, text="Echipa vine mâine."
        )
    with django_capture_on_commit_callbacks(execute=True):
        case_add_note(case_id=case.pk, text="Groapa a fost astupată.", actor=staff, public=True)
    kinds = list(
        Notification.objects.filter(case=case, channel="email")
        .order_by("id")
        .values_list("kind", "status")
    )
    assert kinds == [("acknowledgement", "queued"), ("status", "sent"), ("reply", "sent")]
    status_mail, reply_mail = mail.outbox
    assert "Echipa vine mâine." in status_mail.body
    assert "Groapă" in status_mail.body and case.reference in status_mail.subject
    assert "Groapa a fost astupată." in reply_mail.body
    sms = Notification.objects.get(case=case, channel="sms", kind="reply")
    # SMS without diacritics (GSM-7), short.
    assert "Groapa a fost astupata." in sms.body and len(sms.body) <= services.SMS_MAX_CHARS
    assert Interaction.objects.filter(case=case, direction="out").count() == 4


def test_internal_notes_and_hidden_changes_tell_nobody(catalog, personas, citizen):
    case = make_case(channel="phone", requester=citizen)
    Notification.objects.all().delete()
    staff = personas["staff"]
    case_add_note(case_id=case.pk, text="Intern: sunați la drumuri.", actor=staff, public=False)
    case_change_status(case_id=case.pk, status="acknowledged", actor=staff, public=False)
    assert Notification.objects.count() == 0


def test_imports_backdated_history_and_the_citizens_own_changes_tell_nobody(catalog, citizen):
    imported = make_case(channel="letter", requester=citizen, handler="system")
    assert not Notification.objects.filter(case=imported).exists()
    case_change_status(case_id=imported.pk, status="acknowledged", actor=None, handler="system")
    case_change_status(
        case_id=imported.pk,
        status="in_progress",
        actor=None,
        at=timezone.now(),
    )
    case_change_status(case_id=imported.pk, status="fixed", actor=None, handler="self")
    assert Notification.objects.count() == 0


def test_portal_and_open311_cases_are_not_acknowledged_twice(catalog, personas):
    contact = Contact(name="Ana", email="ana@example.ro", phone=MOBILE)
    for channel in ("map", "open311"):
        case = make_case(
            channel=channel, contact=contact, handler="self", latitude=46.07, longitude=23.57
        )
        case_change_status(case_id=case.pk, status="fixed", actor=personas["staff"])
    assert Notification.objects.count() == 0


def test_a_citizen_without_contact_is_not_notified(catalog, personas):
    person = make_person()
    case = make_case(channel="phone", requester=person)
    case_add_note(case_id=case.pk, text="Răspuns", actor=personas["staff"], public=True)
    anonymous = make_case(channel="phone")
    case_change_status(case_id=anonymous.pk, status="fixed", actor=personas["staff"])
    assert Notification.objects.count() == 0


def test_case_contact_comes_first_and_a_landline_gets_no_sms(catalog, citizen):
    case = make_case(
        channel="phone",
        requester=citizen,
        contact=Contact(email="alta@example.ro", phone="0258 811 000"),
    )
    assert case.contact_phone == LANDLINE
    assert sorted(Notification.objects.values_list("channel", "recipient")) == [
        ("email", "alta@example.ro"),
        ("sms", MOBILE),  # the landline is skipped for the requester's mobile
    ]
    only_landline = make_person(phones=[LANDLINE])
    make_case(channel="phone", requester=only_landline)
    assert Notification.objects.count() == 2


def test_a_public_map_case_link_is_in_the_message(catalog, settings):
    settings.CETATEA_SITE_URL = "https://sesizari.apulum.ro"
    case = make_case(
        channel="phone",
        contact=Contact(email="ana@example.ro"),
        latitude=46.07,
        longitude=23.57,
        publication="public",
    )
    notification = Notification.objects.get(case=case)
    assert "https://sesizari.apulum.ro/" in notification.body
    assert case.reference in notification.body.split("https://sesizari.apulum.ro/")[1]


def test_message_language_follows_the_persons_preference(catalog, citizen):
    Preference.objects.create(person=citizen, language="en")
    case = make_case(channel="phone", requester=citizen)
    notification = Notification.objects.get(case=case, channel="email")
    assert notification.language == "en"
    assert notification.subject.startswith("Your request was registered")
    other = make_case(channel="phone", contact=Contact(email="ana@example.ro"))
    assert Notification.objects.get(case=other).language == "ro"


# --- the SMS provider ---------------------------------------------------------------------


def test_twilio_adapter_posts_the_message_in_twilios_format(catalog, twilio):
    with twilio() as provider:
        case = make_case(channel="phone", contact=Contact(phone="0722 123 456"))
        notification = Notification.objects.get(case=case)
        services.notification_send(notification_id=notification.pk)
    (request,) = provider.requests
    sid = "AC0123456789abcdef0123456789abcdef"
    assert request["path"] == f"/2010-04-01/Accounts/{sid}/Messages.json"
    expected = base64.b64encode(b"AC0123456789abcdef0123456789abcdef:secret-token").decode()
    assert request["headers"]["Authorization"] == f"Basic {expected}"
    assert request["headers"]["Content-Type"].startswith("application/x-www-form-urlencoded")
    form = urllib.parse.parse_qs(request["form"])
    assert form["To"] == [MOBILE]
    assert form["From"] == ["+40700000000"]
    assert form["Body"] == [notification.body]
    notification.refresh_from_db()
    assert notification.status == "sent"
    assert notification.provider_id == "SM" + "1".rjust(32, "0")
    assert notification.interaction.channel == "sms"


def test_failing_provider_is_retried_with_backoff_then_failed_and_shown_on_the_case(
    catalog, personas, twilio, settings, client, django_assert_max_num_queries
):
    settings.CETATEA_NOTIFY_MAX_ATTEMPTS = 3
    settings.CETATEA_NOTIFY_RETRY_SECONDS = 60
    with twilio(status=500) as provider:
        case = make_case(channel="phone", contact=Contact(phone=MOBILE))
        notification = Notification.objects.get(case=case)
        start = timezone.now()
        services.notification_send(notification_id=notification.pk, now=start)
        notification.refresh_from_db()
        assert notification.status == "queued" and notification.attempts == 1
        assert "HTTP 500" in notification.last_error
        assert notification.next_attempt_at == start + dt.timedelta(seconds=60)

        # Before the backoff is over, the retry run leaves it alone.
        assert services.notifications_retry(now=start + dt.timedelta(seconds=30))["queued"] == 0
        assert len(provider.requests) == 1
        services.notifications_retry(now=start + dt.timedelta(seconds=61))
        notification.refresh_from_db()
        assert notification.attempts == 2
        assert notification.next_attempt_at == start + dt.timedelta(seconds=61 + 240)
        counts = services.notifications_retry(now=start + dt.timedelta(seconds=61 + 241))
        assert counts["failed"] == 1
    assert len(provider.requests) == 3
    notification.refresh_from_db()
    assert notification.status == "failed" and notification.attempts == 3
    assert notification.interaction is None
    assert not Interaction.objects.filter(direction="out").exists()
    # A failed message is not tried again.
    assert services.notifications_retry(now=start + dt.timedelta(days=1))["failed"] == 0

    client.force_login(personas["staff"])
    url = reverse("notify:case", args=[case.pk])
    with django_assert_max_num_queries(8):
        response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html and "could not be sent" in html
    assert "HTTP 500" in html and MOBILE in html


def test_a_refused_number_fails_at_once(catalog, twilio):
    with twilio(status=400) as provider:
        case = make_case(channel="phone", contact=Contact(phone=MOBILE))
        notification = services.notification_send(
            notification_id=Notification.objects.get(case=case).pk
        )
    assert len(provider.requests) == 1
    assert notification.status == "failed" and notification.attempts == 1


def test_a_provider_that_does_not_answer_in_time_is_retried(catalog, twilio):
    with twilio(delay=1.5) as provider:
        case = make_case(channel="phone", contact=Contact(phone=MOBILE))
        notification = services.notification_send(
            notification_id=Notification.objects.get(case=case).pk
        )
    assert len(provider.requests) == 1
    assert notification.status == "queued" and "timeout" in notification.last_error


# --- the retry run ------------------------------------------------------------------------


def test_retry_command_sends_due_messages_once(catalog, citizen):
    make_case(channel="phone", requester=citizen)  # the worker never ran (no commit hook)
    call_command("retry_notifications")
    call_command("retry_notifications")
    assert len(mail.outbox) == 1
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert Interaction.objects.filter(direction="out").count() == 2


def test_a_message_taken_by_another_run_is_not_sent_twice(catalog, citizen):
    case = make_case(channel="phone", contact=Contact(email="ana@example.ro"))
    notification = Notification.objects.get(case=case)
    now = timezone.now()
    services.notification_send(notification_id=notification.pk, now=now)
    services.notification_send(notification_id=notification.pk, now=now)
    assert len(mail.outbox) == 1


# --- who sees the messages ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("staff", 200), ("operator", 200), ("crew", 200), ("citizen", 403)]
)
def test_case_messages_page_needs_case_access(catalog, personas, client, who, status):
    case = make_case(channel="phone", contact=Contact(email="ana@example.ro"))
    client.force_login(personas[who])
    response = client.get(reverse("notify:case", args=[case.pk]))
    assert response.status_code == status
    if status == 200:
        assert "ana@example.ro" in response.content.decode()
        assert "<h1>" in response.content.decode()


def test_case_messages_page_sends_visitors_to_login(catalog, client):
    case = make_case(channel="phone")
    response = client.get(reverse("notify:case", args=[case.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]
