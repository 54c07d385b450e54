"""fetch_mail against a real IMAP server (Dovecot on loopback, see conftest.py)."""

from __future__ import annotations

import imaplib
import io
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core.management import CommandError, call_command

from cetatea.cases.models import Attachment, Case, CaseEvent, Interaction
from cetatea.cases.services import case_change_status
from cetatea.inbox.models import InboundMessage
from conftest import make_case, make_person

pytestmark = pytest.mark.django_db


def mail(
    *,
    sender="Maria Ionescu <maria.ionescu@example.ro>",
    subject="Groapă mare pe strada Trandafirilor",
    body="Bună ziua,\nPe strada Trandafirilor nr. 5 este o groapă periculoasă.\n",
    attachments=(),
    message_id=None,
    headers=None,
) -> tuple[bytes, str]:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "registratura@primaria.test"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 02 Mar 2026 10:15:00 +0200"
    msg["Message-ID"] = message_id or make_msgid(domain="example.ro")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for name, ctype, payload in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(payload, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes(), msg["Message-ID"]


def fetch() -> str:
    out = io.StringIO()
    call_command("fetch_mail", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_new_message_from_a_known_citizen_opens_a_case_with_its_attachments(inbox_catalog, mailbox):
    person = make_person(
        last_name="Ionescu", first_name="Maria", emails=["Maria.Ionescu@example.ro"]
    )
    pdf = b"%PDF-1.4\n" + b"x" * 2000
    raw, message_id = mail(attachments=[("cerere.pdf", "application/pdf", pdf)])
    mailbox.deliver(raw)

    assert "1 taken in" in fetch()

    case = Case.objects.get()
    assert case.channel == "email"
    assert case.category.code == "OTHER"
    assert case.requester == person
    assert case.title == "Groapă mare pe strada Trandafirilor"
    assert "groapă periculoasă" in case.description
    interaction = Interaction.objects.get()
    assert (interaction.channel, interaction.direction) == ("email", "in")
    assert interaction.external_id == message_id
    assert interaction.person == person and interaction.case == case
    attachment = Attachment.objects.get()
    assert (attachment.case, attachment.original_name, attachment.size) == (
        case,
        "cerere.pdf",
        len(pdf),
    )
    assert attachment.file.read() == pdf
    record = InboundMessage.objects.get()
    assert (record.message_id, record.outcome, record.case) == (message_id, "created", case)
    assert record.from_address == "maria.ionescu@example.ro"
    assert record.source == "imap"
    # Marked seen on the server only once stored.
    assert mailbox.search("UNSEEN") == []
    assert len(mailbox.search("SEEN")) == 1


def test_unknown_sender_is_the_case_contact(inbox_catalog, mailbox):
    mailbox.deliver(mail(sender='"Vasile Pop" <Vasile.Pop@Example.ro>')[0])
    fetch()
    case = Case.objects.get()
    assert case.requester is None
    assert (case.contact_name, case.contact_email) == ("Vasile Pop", "vasile.pop@example.ro")
    assert case.regime == "ticket"  # anonymous until identified


def test_a_rerun_records_nothing_twice(inbox_catalog, mailbox):
    mailbox.deliver(mail()[0])
    mailbox.deliver(mail(subject="Iluminat stradal")[0])
    fetch()
    assert Case.objects.count() == 2

    # The same messages come back unseen (another client, a restored mailbox): nothing new.
    mailbox.mark_all_unseen()
    out = fetch()
    assert "0 taken in" in out and "2 already known" in out
    assert Case.objects.count() == 2
    assert Interaction.objects.count() == 2
    assert InboundMessage.objects.count() == 2
    assert mailbox.search("UNSEEN") == []

    # And a run with nothing unseen does nothing.
    assert "0 unseen" in fetch()


def test_reply_with_the_reference_in_the_subject_goes_on_that_case(inbox_catalog, mailbox):
    person = make_person(emails=["ion.popescu@example.ro"])
    case = make_case(requester=person)
    raw, message_id = mail(
        sender="ion.popescu@example.ro",
        subject=f"Re: [{case.reference}] Groapă",
        body="Groapa a fost astupată doar pe jumătate.",
        attachments=[("dupa.jpg", "image/jpeg", b"\xff\xd8\xff" + b"j" * 500)],
    )
    mailbox.deliver(raw)
    fetch()

    assert Case.objects.count() == 1
    note = CaseEvent.objects.get(case=case, kind="internal_note", text__contains="jumătate")
    assert "ion.popescu@example.ro" in note.text
    interaction = Interaction.objects.get(external_id=message_id)
    assert (interaction.case, interaction.person) == (case, person)
    assert Attachment.objects.get().case == case
    assert InboundMessage.objects.get().outcome == "attached"


def test_reply_to_a_closed_case_is_kept_on_it_with_a_clear_note(inbox_catalog, mailbox):
    case = make_case()
    case_change_status(case_id=case.pk, status="fixed", actor=None)
    short = case.reference.replace("-", " ").lower()  # "ab 2026 000001" still names it
    mailbox.deliver(mail(subject=f"Re: {short} nu e rezolvat", body="Tot e groapă.")[0])
    fetch()

    case.refresh_from_db()
    assert case.status == "fixed"  # reopening is the staff's decision
    note = CaseEvent.objects.get(case=case, kind="internal_note")
    assert "This case is closed" in note.text and "Tot e groapă." in note.text
    assert Case.objects.count() == 1


def test_a_30_mb_attachment_is_refused_but_the_message_and_the_others_are_kept(
    inbox_catalog, mailbox
):
    big = b"\0" * (30 * 1024 * 1024)
    raw, _ = mail(
        attachments=[
            ("film.mp4", "video/mp4", big),
            ("plan.pdf", "application/pdf", b"%PDF-1.4 plan"),
        ]
    )
    mailbox.deliver(raw)
    fetch()

    case = Case.objects.get()
    assert [a.original_name for a in case.attachments.all()] == ["plan.pdf"]
    note = CaseEvent.objects.get(case=case, kind="internal_note")
    assert "film.mp4" in note.text and "larger than 20 MB" in note.text
    record = InboundMessage.objects.get()
    assert record.outcome == "created"
    assert [(a["name"], a["kept"]) for a in record.attachments] == [
        ("film.mp4", False),
        ("plan.pdf", True),
    ]
    assert "film.mp4" in record.error
    assert mailbox.search("UNSEEN") == []


def test_an_out_of_office_reply_opens_no_case(inbox_catalog, mailbox):
    case = make_case()
    mailbox.deliver(
        mail(
            subject=f"Automatic reply: [{case.reference}] Groapă",
            body="Sunt în concediu până luni.",
            headers={"Auto-Submitted": "auto-replied"},
        )[0]
    )
    mailbox.deliver(mail(subject="Out of office", headers={"X-Autoreply": "yes"})[0])
    fetch()

    assert Case.objects.count() == 1
    assert not CaseEvent.objects.filter(kind="internal_note").exists()
    outcomes = sorted(InboundMessage.objects.values_list("outcome", "reason"))
    assert outcomes == [
        ("auto_reply", "Auto-Submitted: auto-replied"),
        ("auto_reply", "X-Autoreply header"),
    ]
    # The one that names a case is still on the case's record of contacts.
    assert Interaction.objects.filter(case=case, channel="email").count() == 1
    assert mailbox.search("UNSEEN") == []


BOUNCE = """\
From: Mail Delivery System <MAILER-DAEMON@mx.primaria.test>
To: cetatea@primaria.test
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-1@mx.primaria.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

The mail system could not deliver your message.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.primaria.test

Final-Recipient: rfc822; nobody@nowhere.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <nobody@nowhere.example>: Recipient address rejected

--B
Content-Type: text/rfc822-headers

From: cetatea@primaria.test
To: nobody@nowhere.example
Subject: Your request {reference} was received

--B--
"""


def test_a_bounce_is_noted_on_the_case_it_names_and_opens_nothing(inbox_catalog, mailbox):
    case = make_case()
    mailbox.deliver(BOUNCE.format(reference=case.reference).replace("\n", "\r\n").encode())
    fetch()

    assert Case.objects.count() == 1
    record = InboundMessage.objects.get()
    assert (record.outcome, record.case) == ("bounce", case)
    note = CaseEvent.objects.get(case=case, kind="internal_note")
    assert "could not be delivered" in note.text and "Recipient address rejected" in note.text
    assert not Attachment.objects.exists()


BROKEN = b"""\
From: =?utf-8?q?Ana_=C8=98tef=C4=83nescu?= <ana@example.ro
Subject: =?x-unknown?b?////?= Canal =?utf-8?q?=C3=AEnfundat?=
Message-ID: <broken-1@example.ro>
Date: not a date
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="OUTER"

--OUTER
Content-Type: text/plain; charset="x-no-such-charset"
Content-Transfer-Encoding: quoted-printable

Canalul de pe strada Mihai Viteazul este =C3=AEnfundat.
--OUTER
Content-Type: application/pdf; name="scan.pdf"
Content-Disposition: attachment; filename="scan.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK!!!not base64 at all
"""


def test_broken_mime_keeps_what_can_be_read_and_records_the_defects(inbox_catalog, mailbox):
    mailbox.deliver(BROKEN.replace(b"\n", b"\r\n"))
    fetch()

    case = Case.objects.get()
    assert "Mihai Viteazul" in case.description
    record = InboundMessage.objects.get()
    assert record.outcome == "created"
    assert record.message_id == "<broken-1@example.ro>"
    assert record.defects  # e.g. the missing closing boundary, the bad base64, the Date
    assert "Date" in record.defects
    assert mailbox.search("UNSEEN") == []


def test_move_after_fetch_takes_the_message_out_of_the_folder(inbox_catalog, mailbox, settings):
    settings.CETATEA_IMAP_AFTER = "move"
    mailbox.deliver(mail()[0])
    fetch()
    assert Case.objects.count() == 1
    assert mailbox.search("ALL") == []
    assert len(mailbox.search("SEEN", folder=settings.CETATEA_IMAP_MOVE_TO)) == 1


def test_delete_after_fetch_removes_the_message(inbox_catalog, mailbox, settings):
    settings.CETATEA_IMAP_AFTER = "delete"
    mailbox.deliver(mail()[0])
    fetch()
    assert Case.objects.count() == 1
    assert mailbox.search("ALL") == []


def test_a_message_that_cannot_be_filed_stays_unseen_and_is_taken_next_run(
    inbox_catalog, mailbox, settings
):
    settings.CETATEA_INBOX_CATEGORY = "NO_SUCH_CATEGORY"
    mailbox.deliver(mail()[0])
    with pytest.raises(CommandError, match="left for the next run"):
        fetch()
    assert not Case.objects.exists()
    record = InboundMessage.objects.get()
    assert record.outcome == "rejected" and "NO_SUCH_CATEGORY" in record.error
    assert len(mailbox.search("UNSEEN")) == 1

    settings.CETATEA_INBOX_CATEGORY = "OTHER"
    fetch()
    assert Case.objects.count() == 1
    assert InboundMessage.objects.get().outcome == "created"
    assert mailbox.search("UNSEEN") == []


def test_wrong_password_or_unreachable_server_is_a_clear_error(inbox_catalog, mailbox, settings):
    settings.CETATEA_IMAP_PASSWORD = "wrong"
    with pytest.raises(CommandError, match="IMAP 127.0.0.1"):
        fetch()
    settings.CETATEA_IMAP_HOST = ""
    with pytest.raises(CommandError, match="CETATEA_IMAP_HOST"):
        fetch()
    assert not InboundMessage.objects.exists()


def test_imap_login_refuses_the_wrong_password(dovecot):
    """The fixture's server is a real one: it checks credentials."""
    conn = imaplib.IMAP4(dovecot.host, dovecot.port)
    with pytest.raises(imaplib.IMAP4.error):
        conn.login(dovecot.user, "nope")
    conn.logout()
