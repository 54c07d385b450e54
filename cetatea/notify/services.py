"""Writes of notifications: queue the messages a change of a case calls for, send them
after commit, try again with backoff, record each message sent as an Interaction.

The case services call ``notify_case_created`` and ``notify_case_event`` inside their
transaction: the Notification rows are written with the change (a rolled-back change
tells nothing) and the sending is scheduled with ``transaction.on_commit``.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import unicodedata

import phonenumbers
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from cetatea.cases import services as case_services
from cetatea.cases.choices import Channel, Direction, EventKind, Handler, Publication, Status
from cetatea.cases.models import Case, CaseEvent
from cetatea.notify import sms
from cetatea.notify.choices import Kind, Language, NotifyChannel, NotifyStatus
from cetatea.notify.models import Notification, Preference
from cetatea.people.choices import ContactKind
from cetatea.people.models import ContactPoint

logger = logging.getLogger(__name__)

# Cases filed through these channels are followed there: the portal e-mails its own
# acknowledgement and alerts to the reporter, an Open311 client tells its own user.
FOLLOWED_ELSEWHERE = frozenset({Channel.MAP, Channel.OPEN311})
# Changes made by these handlers are not news to the citizen: imports and background
# jobs ("system"), and what the citizen did themselves ("self-service").
SILENT_HANDLERS = frozenset({Handler.SYSTEM, Handler.SELF_SERVICE})
SMS_MAX_CHARS = 320  # two concatenated GSM-7 parts at most
SMS_TEXT_CHARS = 160  # the part of a reply or status text quoted in an SMS
# While one attempt runs, no other run takes the same message (a crashed worker's
# message is taken again after this).
LEASE = dt.timedelta(minutes=5)


# --- queueing ----------------------------------------------------------------------------


def notify_case_created(*, case: Case, handler: str) -> list[Notification]:
    """Queue the acknowledgement of a new case (reference, and the link of a public case).

    Nothing for cases followed elsewhere (portal, Open311), for imports and for a
    requester with no e-mail and no mobile phone.
    """
    if case.channel in FOLLOWED_ELSEWHERE or handler in SILENT_HANDLERS:
        return []
    return _queue(case=case, kind=Kind.ACKNOWLEDGEMENT, event=None)


def notify_case_event(
    *, event: CaseEvent, handler: str = Handler.STAFF, backdated: bool = False
) -> list[Notification]:
    """Queue the messages for a status change or a public reply.

    Internal notes, changes hidden from the citizen, history recorded after the fact
    (``backdated``), imports and the citizen's own changes tell nobody.
    """
    if not event.is_public or backdated or handler in SILENT_HANDLERS:
        return []
    if event.kind == EventKind.STATUS:
        kind = Kind.STATUS
    elif event.kind == EventKind.PUBLIC_REPLY:
        kind = Kind.REPLY
    else:
        return []
    if event.case.channel in FOLLOWED_ELSEWHERE:
        return []
    return _queue(case=event.case, kind=kind, event=event)


def _queue(*, case: Case, kind: str, event: CaseEvent | None) -> list[Notification]:
    recipients = case_recipients(case)
    if not recipients:
        return []
    language = _language(case)
    now = timezone.now()
    queued = []
    for channel, recipient in recipients:
        subject, body = render_message(
            case=case, kind=kind, channel=channel, event=event, language=language
        )
        queued.append(
            Notification.objects.create(
                case=case,
                event=event,
                kind=kind,
                channel=channel,
                recipient=recipient,
                language=language,
                subject=subject,
                body=body,
                next_attempt_at=now,
                created_at=now,
            )
        )
    ids = [n.pk for n in queued]
    transaction.on_commit(lambda: _enqueue(ids))
    return queued


def _enqueue(ids: list[int]) -> None:
    from cetatea.notify.tasks import send_notification_task

    for notification_id in ids:
        try:
            send_notification_task.enqueue(notification_id)
        except Exception:  # the retry run sends it: the row is queued and due
            logger.exception("could not enqueue notification %s", notification_id)


def case_recipients(case: Case) -> list[tuple[str, str]]:
    """Where to write about a case: ``[(channel, address)]``.

    The contact given on the case comes first; else the requester's primary (or first)
    e-mail and mobile phone. SMS only goes to mobile numbers.
    """
    email = case.contact_email
    phone = case.contact_phone if _is_mobile(case.contact_phone) else ""
    if case.requester_id and not (email and phone):
        points = ContactPoint.objects.filter(person_id=case.requester_id).order_by(
            "-is_primary", "id"
        )[:20]
        for point in points:
            if point.kind == ContactKind.EMAIL and not email:
                email = point.value
            elif point.kind == ContactKind.PHONE and not phone and _is_mobile(point.value):
                phone = point.value
    recipients = []
    if email:
        recipients.append((NotifyChannel.EMAIL, email))
    if phone:
        recipients.append((NotifyChannel.SMS, phone))
    return recipients


def _is_mobile(e164: str) -> bool:
    if not e164:
        return False
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def _language(case: Case) -> str:
    if case.requester_id:
        preference = Preference.objects.filter(person_id=case.requester_id).first()
        if preference is not None:
            return preference.language
    return Language.ROMANIAN


def _public_link(case: Case) -> str:
    if case.publication != Publication.PUBLIC:
        return ""
    try:
        path = reverse("portal:case", args=[case.reference])
    except NoReverseMatch:
        return ""
    return settings.CETATEA_SITE_URL.rstrip("/") + path


def render_message(
    *, case: Case, kind: str, channel: str, event: CaseEvent | None, language: str
) -> tuple[str, str]:
    """The subject (e-mail only) and text of a message, in ``language``."""
    text = event.text.strip() if event is not None else ""
    if channel == NotifyChannel.SMS and len(text) > SMS_TEXT_CHARS:
        text = text[: SMS_TEXT_CHARS - 3].rstrip() + "..."
    with translation.override(language):
        context = {
            "reference": case.reference,
            "title": case.title,
            "status": str(Status(event.to_status).label) if event and event.to_status else "",
            "text": text,
            "link": _public_link(case),
            "due": formats.date_format(timezone.localtime(case.due_at), "d.m.Y")
            if case.is_open and case.due_at
            else "",
        }
        rendered = render_to_string(f"notify/messages/{kind}_{channel}.txt", context).strip()
    if channel == NotifyChannel.SMS:
        return "", _sms_text(rendered)
    subject, _sep, body = rendered.partition("\n")
    return subject.strip()[:200], body.strip()


def _sms_text(text: str) -> str:
    # Diacritics force UCS-2 (70 characters a part); Romanian SMS are written without.
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = folded.replace("“", '"').replace("”", '"').replace("„", '"').replace("’", "'")
    folded = " ".join(folded.split())
    return folded if len(folded) <= SMS_MAX_CHARS else folded[: SMS_MAX_CHARS - 3] + "..."


# --- sending -----------------------------------------------------------------------------


def retry_delay(attempts: int) -> dt.timedelta:
    """Backoff after the n-th failed attempt: base, 4×, 16× … capped at six hours."""
    seconds = settings.CETATEA_NOTIFY_RETRY_SECONDS * 4 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, 6 * 3600))


def notification_send(*, notification_id: int, now: dt.datetime | None = None) -> Notification:
    """Try to send one queued message whose time has come.

    Taking the message is one conditional UPDATE (status queued, attempt due), so two
    workers, or the worker and the retry run, never send it twice. A failure is kept
    with its error and tried again after ``retry_delay``; after the last attempt (or a
    permanent refusal) the message is failed, which the case page shows.
    """
    now = now or timezone.now()
    taken = (
        Notification.objects.due(now)
        .filter(pk=notification_id)
        .update(attempts=F("attempts") + 1, next_attempt_at=now + LEASE)
    )
    notification = Notification.objects.select_related("case").get(pk=notification_id)
    if not taken:
        return notification
    try:
        provider_id = _deliver(notification)
    except (sms.SmsError, smtplib.SMTPException, OSError) as exc:
        permanent = getattr(exc, "permanent", False) or isinstance(
            exc, smtplib.SMTPRecipientsRefused
        )
        _record_failure(notification, str(exc) or exc.__class__.__name__, permanent, now)
        return notification
    _record_success(notification, provider_id)
    return notification


def _deliver(notification: Notification) -> str:
    if notification.channel == NotifyChannel.EMAIL:
        EmailMessage(
            subject=notification.subject,
            body=notification.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.recipient],
            headers={
                # Mail servers and the e-mail-in side recognise an automatic message.
                "Auto-Submitted": "auto-generated",
                "X-Cetatea-Case": notification.case.reference,
            },
        ).send()
        return ""
    return sms.get_backend().send(to=notification.recipient, body=notification.body)


def _record_failure(notification: Notification, error: str, permanent: bool, now) -> None:
    failed = permanent or notification.attempts >= settings.CETATEA_NOTIFY_MAX_ATTEMPTS
    notification.last_error = error[:500]
    if failed:
        notification.status = NotifyStatus.FAILED
    else:
        notification.next_attempt_at = now + retry_delay(notification.attempts)
    notification.save(update_fields=["last_error", "status", "next_attempt_at"])
    logger.warning(
        "notification %s (%s to %s) attempt %s %s: %s",
        notification.pk,
        notification.channel,
        notification.recipient,
        notification.attempts,
        "failed for good" if failed else "failed, will retry",
        error,
    )


def _record_success(notification: Notification, provider_id: str) -> None:
    with transaction.atomic():
        interaction = case_services.interaction_log(
            channel=notification.channel,
            case=notification.case,
            direction=Direction.OUTBOUND,
            handler=Handler.SYSTEM,
            summary=(
                f"{notification.subject}\n\n{notification.body}"
                if notification.subject
                else notification.body
            ),
            external_id=f"notification:{notification.pk}",
        )
        notification.status = NotifyStatus.SENT
        notification.sent_at = timezone.now()
        notification.last_error = ""
        notification.provider_id = provider_id[:100]
        notification.interaction = interaction
        notification.save(
            update_fields=["status", "sent_at", "last_error", "provider_id", "interaction"]
        )


def notification_resend(*, notification_id: int, actor: AbstractBaseUser) -> Notification:
    """Put a failed message back in the queue ("Send again" on the case page).

    Only a failed message is taken, by one conditional UPDATE (status failed), so a
    double submit or two staff members pressing at once queue it once; a message that
    was sent or is already queued is refused with a ``ValidationError`` saying so
    (code ``sent`` or ``queued``). The attempts start again from zero. When the case's
    contact for that channel was corrected since, the message goes to the new address;
    the text is the one written at the time. The case's history records who asked, in
    the same transaction; the sending is scheduled after commit like a new message.
    """
    if not (actor.is_active and actor.has_perm("cases.change_case")):
        raise PermissionDenied(_("Your role does not allow this action."))
    with transaction.atomic():
        notification = (
            Notification.objects.select_related("case").filter(pk=notification_id).first()
        )
        if notification is None:
            raise ValidationError(_("This message does not exist."), code="missing")
        recipient = _current_recipient(notification)
        taken = Notification.objects.filter(pk=notification.pk, status=NotifyStatus.FAILED).update(
            status=NotifyStatus.QUEUED,
            attempts=0,
            next_attempt_at=timezone.now(),
            last_error="",
            recipient=recipient,
        )
        if not taken:
            notification.refresh_from_db(fields=["status"])
            if notification.status == NotifyStatus.SENT:
                raise ValidationError(
                    _("This message was already sent; it is not sent again."), code="sent"
                )
            raise ValidationError(
                _("This message is already waiting to be sent; it will not be sent twice."),
                code="queued",
            )
        CaseEvent.objects.create(
            case=notification.case,
            kind=EventKind.INTERNAL_NOTE,
            actor=actor,
            data={
                "resent_notification": notification.pk,
                "channel": notification.channel,
                "recipient": recipient,
                "previous_recipient": notification.recipient,
                "previous_error": notification.last_error,
            },
        )
        transaction.on_commit(lambda: _enqueue([notification.pk]))
    notification.refresh_from_db()
    return notification


def _current_recipient(notification: Notification) -> str:
    """The case's address for the message's channel now (corrected since?), else the old one."""
    for channel, address in case_recipients(notification.case):
        if channel == notification.channel:
            return address
    return notification.recipient


def notifications_retry(*, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Send every queued message whose attempt is due (``manage.py retry_notifications``).

    Idempotent and safe beside the worker: each message is taken by a conditional
    UPDATE. Returns how many were sent, left for later and failed for good.
    """
    now = now or timezone.now()
    due = Notification.objects.due(now).order_by("next_attempt_at", "id")
    ids = list(due.values_list("pk", flat=True)[:limit])
    counts = {"sent": 0, "queued": 0, "failed": 0}
    for notification_id in ids:
        notification = notification_send(notification_id=notification_id, now=now)
        counts[notification.status] = counts.get(notification.status, 0) + 1
    return counts
