"""read_mail (a message piped on standard input) and the recognition of automatic mail."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from cetatea.cases.models import Case, CaseEvent, Interaction
from cetatea.inbox.models import InboundMessage
from cetatea.inbox.tests.test_fetch_mail import BOUNCE, BROKEN, mail
from conftest import make_case

pytestmark = pytest.mark.django_db


def read_mail(raw: bytes) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("read_mail", stdin=io.BytesIO(raw), stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_a_piped_message_is_stored_once_with_exit_status_0(inbox_catalog):
    raw, message_id = mail()
    code, out, _err = read_mail(raw)
    assert code == 0
    case = Case.objects.get()
    assert out.strip() == f"stored: Case created {case.reference}"
    assert InboundMessage.objects.get().source == "pipe"

    # The mail server delivers it again (it did not see our answer): nothing twice.
    code, out, _err = read_mail(raw)
    assert code == 0 and out.startswith("already stored")
    assert Case.objects.count() == 1
    assert Interaction.objects.filter(external_id=message_id).count() == 1


def test_an_empty_message_is_refused_with_a_reason_and_no_record(inbox_catalog):
    code, _out, err = read_mail(b"  \r\n")
    assert code == 65  # EX_DATAERR: the server bounces it
    assert "The message is empty." in err
    assert not InboundMessage.objects.exists()


def test_an_oversized_message_is_refused(inbox_catalog, settings):
    settings.CETATEA_INBOX_MAX_BYTES = 1024
    code, _out, err = read_mail(mail(body="x" * 5000)[0])
    assert code == 65 and "larger than" in err
    assert not Case.objects.exists()


def test_a_message_that_cannot_be_filed_asks_the_server_to_retry(inbox_catalog, settings):
    settings.CETATEA_INBOX_CATEGORY = "GONE"
    raw, _ = mail()
    code, _out, err = read_mail(raw)
    assert code == 75  # EX_TEMPFAIL: the server keeps it and retries
    assert "GONE" in err
    assert InboundMessage.objects.get().outcome == "rejected"

    settings.CETATEA_INBOX_CATEGORY = "OTHER"
    assert read_mail(raw)[0] == 0
    assert InboundMessage.objects.get().outcome == "created"
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-generated"},
        {"Auto-Submitted": "auto-replied; owner-email=x@example.ro"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "1"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"Precedence": "auto_reply"},
        {"Precedence": "list"},
        {"X-Auto-Response-Suppress": "All"},
        {"Return-Path": "<>"},
    ],
)
def test_automatic_replies_open_no_case(inbox_catalog, headers):
    code, _out, _err = read_mail(mail(headers=headers)[0])
    assert code == 0
    assert not Case.objects.exists()
    assert InboundMessage.objects.get().outcome == "auto_reply"


def test_auto_submitted_no_is_an_ordinary_message(inbox_catalog):
    read_mail(mail(headers={"Auto-Submitted": "no"})[0])
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    "sender", ["MAILER-DAEMON@mx.example.ro", "Postmaster <postmaster@example.ro>"]
)
def test_mail_from_the_mailer_daemon_is_a_bounce(inbox_catalog, sender):
    read_mail(mail(sender=sender, subject="Delivery failure")[0])
    assert not Case.objects.exists()
    assert InboundMessage.objects.get().outcome == "bounce"


def test_our_own_notifications_coming_back_do_not_loop(inbox_catalog):
    read_mail(mail(sender="Primăria <cetatea@primaria.test>", subject="Cererea a fost primită")[0])
    assert not Case.objects.exists()
    assert InboundMessage.objects.get().outcome == "auto_reply"


def test_a_piped_bounce_names_the_case(inbox_catalog):
    case = make_case()
    read_mail(BOUNCE.format(reference=case.reference).encode())
    assert CaseEvent.objects.filter(case=case, kind="internal_note").count() == 1
    assert Case.objects.count() == 1


def test_broken_mime_through_the_pipe(inbox_catalog):
    code, _out, _err = read_mail(BROKEN)
    assert code == 0
    assert "Mihai Viteazul" in Case.objects.get().description


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe\x00garbage without any header",
        b"Subject: only a subject\r\n",
        b"From: <>\r\nContent-Type: multipart/mixed\r\n\r\nno boundary at all",
        b"From: a@b.ro\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!!",
        b"From: a@b.ro\r\nMessage-ID: <" + b"x" * 500 + b"@long>\r\n\r\nhello",
        b"From: N\x00ul <a@b.ro>\r\nSubject: a\x00b\r\nMessage-ID: <n\x00ul@b>\r\n\r\nbo\x00dy",
    ],
)
def test_garbage_never_crashes(inbox_catalog, raw):
    code, _out, err = read_mail(raw)
    assert code == 0, err
    record = InboundMessage.objects.get()
    assert record.outcome in ("created", "auto_reply", "bounce")
    assert len(record.message_id) <= 200


def test_a_very_long_text_is_kept_whole_as_an_attachment(inbox_catalog):
    body = "Rând de text.\n" * 2000  # ~28,000 characters, past the description limit
    read_mail(mail(body=body)[0])
    case = Case.objects.get()
    assert len(case.description) <= 10_000
    assert "message.txt" in case.description
    attachment = case.attachments.get()
    assert attachment.original_name == "message.txt"
    assert attachment.file.read().decode() == body.strip()


def test_a_reply_to_a_merged_case_goes_to_the_survivor(inbox_catalog):
    from cetatea.cases.services import case_merge

    original, duplicate = make_case(), make_case()
    case_merge(duplicate_id=duplicate.pk, original_id=original.pk, actor=None)
    read_mail(mail(subject=f"Re: {duplicate.reference}", body="Revin.")[0])
    assert InboundMessage.objects.get().case == original
    assert CaseEvent.objects.filter(case=original, kind="internal_note").count() == 1
