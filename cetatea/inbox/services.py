"""E-mail in: one raw message becomes a case, a note on a case, or a logged non-event.

``inbound_message_process`` is what both ``fetch_mail`` (IMAP) and ``read_mail`` (a mail
server piping a message) call. It records every message once (by Message-ID) in
``InboundMessage`` and, in the same transaction, files the case or the note through the
case services, so a message is either fully taken in or not at all.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.cases import services as case_services
from cetatea.cases.choices import Channel, Handler
from cetatea.cases.models import Case
from cetatea.core.identifiers import normalize_email_address
from cetatea.inbox import parsing, selectors
from cetatea.inbox.choices import Outcome, Source
from cetatea.inbox.models import InboundMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    message: InboundMessage
    is_new: bool  # False: this Message-ID was already taken in, nothing was written

    @property
    def stored(self) -> bool:
        return self.message.outcome != Outcome.REJECTED


def inbound_message_process(*, raw: bytes, source: str = Source.PIPE) -> Result:
    """Take in one RFC 822 message.

    An empty or oversized message raises ``ValidationError`` and writes nothing. A message
    already taken in (same Message-ID) writes nothing and returns the first record. A
    message that cannot be filed (the configured category does not exist, say) is logged
    as rejected with the reason and is processed again if it comes back.
    """
    if source not in Source.values:
        raise ValidationError({"source": [_("Unknown source.")]})
    if not raw or not raw.strip():
        raise ValidationError({"message": [_("The message is empty.")]})
    limit = settings.CETATEA_INBOX_MAX_BYTES
    if len(raw) > limit:
        raise ValidationError(
            {
                "message": [
                    _("The message is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)}
                ]
            }
        )
    parsed = parsing.parse(raw)
    existing = selectors.inbound_message_seen(parsed.key)
    if existing is not None and existing.outcome != Outcome.REJECTED:
        return Result(existing, False)
    try:
        with transaction.atomic():
            InboundMessage.objects.filter(message_id=parsed.key, outcome=Outcome.REJECTED).delete()
            record = InboundMessage.objects.create(
                outcome=Outcome.REJECTED, **_fields(parsed, raw, source)
            )
            _take_in(parsed, record)
    except IntegrityError:
        # Another run took the same message in at the same moment.
        existing = selectors.inbound_message_seen(parsed.key)
        if existing is not None:
            return Result(existing, False)
        raise
    except ValidationError as exc:
        log.warning("inbound e-mail %s rejected: %s", parsed.key, exc.messages)
        record = _record_rejected(parsed, raw, source, "; ".join(exc.messages))
        return Result(record, True)
    return Result(record, True)


def _fields(parsed: parsing.ParsedMessage, raw: bytes, source: str) -> dict:
    return {
        "message_id": parsed.key,
        "source": source,
        "from_address": (parsed.from_address or parsed.raw_from)[:254],
        "from_name": parsed.from_name[:200],
        "subject": parsed.subject[:300],
        "sent_at": parsed.sent_at,
        "received_at": timezone.now(),
        "size": len(raw),
        "defects": "\n".join(parsed.defects)[:10_000],
    }


def _record_rejected(
    parsed: parsing.ParsedMessage, raw: bytes, source: str, error: str
) -> InboundMessage:
    fields = _fields(parsed, raw, source)
    key = fields.pop("message_id")
    with transaction.atomic():
        record, _created = InboundMessage.objects.update_or_create(
            message_id=key, defaults={**fields, "outcome": Outcome.REJECTED, "error": error}
        )
    return record


def _own_addresses() -> set[str]:
    found = set()
    for value in (settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL):
        address = parseaddr(value or "")[1]
        try:
            found.add(normalize_email_address(address))
        except ValidationError:
            pass
    return found


def _take_in(parsed: parsing.ParsedMessage, record: InboundMessage) -> None:
    person = selectors.person_for_email(parsed.from_address)
    if parsed.is_bounce:
        _bounce(parsed, record)
    elif parsed.auto_reply_reason or parsed.from_address in _own_addresses():
        _auto_reply(parsed, record, person)
    else:
        case = selectors.case_named_in(parsed.subject)
        if case is not None:
            _attach(parsed, record, person, case)
        else:
            _open_case(parsed, record, person)
        _keep_attachments(parsed, record)
    record.error = record.error[:10_000]
    record.save(update_fields=["outcome", "case", "reason", "error", "attachments"])


def _sender(parsed: parsing.ParsedMessage) -> str:
    if parsed.from_name and parsed.from_address:
        return f"{parsed.from_name} <{parsed.from_address}>"
    return parsed.from_address or parsed.raw_from or _("an unknown sender")


def _bounce(parsed: parsing.ParsedMessage, record: InboundMessage) -> None:
    """A delivery failure: never answered; noted on the case it names, if any."""
    record.outcome = Outcome.BOUNCE
    record.reason = parsed.bounce_reason[:200]
    case = selectors.case_named_in(f"{parsed.subject}\n{parsed.bounce_text}\n{parsed.body}")
    if case is None:
        return
    record.case = case
    match = re.search(r"(?im)^Diagnostic-Code:\s*(.+)$", parsed.bounce_text)
    detail = match.group(1).strip() if match else parsed.body[:500]
    case_services.interaction_log(
        channel=Channel.EMAIL,
        case=case,
        handler=Handler.SYSTEM,
        summary=_("Delivery failure: %(subject)s") % {"subject": parsed.subject},
        external_id=parsed.key,
    )
    case_services.case_add_note(
        case_id=case.pk,
        actor=None,
        text=_(
            "An e-mail about this case could not be delivered; check the citizen's address. "
            "The mail server said: %(detail)s"
        )
        % {"detail": detail or parsed.subject},
    )


def _auto_reply(parsed: parsing.ParsedMessage, record: InboundMessage, person) -> None:
    """An out-of-office or other automatic answer: logged, never a case, never answered."""
    record.outcome = Outcome.AUTO_REPLY
    record.reason = (parsed.auto_reply_reason or _("sent from our own address"))[:200]
    case = selectors.case_named_in(parsed.subject)
    record.case = case
    if case is not None or person is not None:
        case_services.interaction_log(
            channel=Channel.EMAIL,
            person=person,
            case=case,
            handler=Handler.SYSTEM,
            summary=_("Automatic reply: %(subject)s") % {"subject": parsed.subject},
            external_id=parsed.key,
        )


def _description(parsed: parsing.ParsedMessage) -> str:
    body = parsed.body
    if len(body) > case_services.MAX_DESCRIPTION:
        # The whole text is kept as an attachment; the case shows its beginning.
        parsed.attachments.insert(
            0, parsing.Part("message.txt", "text/plain", body.encode("utf-8"))
        )
        marker = "\n\n" + _("[The text continues in the attachment message.txt.]")
        body = body[: case_services.MAX_DESCRIPTION - len(marker)] + marker
    return body


def _open_case(parsed: parsing.ParsedMessage, record: InboundMessage, person) -> None:
    contact = None
    if person is None:
        contact = case_services.Contact(name=parsed.from_name, email=parsed.from_address)
    title = (
        parsed.subject[: case_services.MAX_TITLE]
        or (_("E-mail from %(sender)s") % {"sender": _sender(parsed)})[: case_services.MAX_TITLE]
    )
    case = case_services.case_create(
        channel=Channel.EMAIL,
        category=settings.CETATEA_INBOX_CATEGORY,
        title=title,
        description=_description(parsed),
        requester=person,
        contact=contact,
        handler=Handler.SYSTEM,
        interaction_summary=_("E-mail: %(subject)s") % {"subject": parsed.subject or title},
        external_id=parsed.key,
    )
    record.outcome = Outcome.CASE_CREATED
    record.case = case


def _attach(parsed: parsing.ParsedMessage, record: InboundMessage, person, case: Case) -> None:
    """A message naming a case in its subject goes on that case, open or closed."""
    case_services.interaction_log(
        channel=Channel.EMAIL,
        person=person,
        case=case,
        handler=Handler.SYSTEM,
        summary=_("E-mail: %(subject)s") % {"subject": parsed.subject},
        external_id=parsed.key,
    )
    heading = _("E-mail from %(sender)s: %(subject)s") % {
        "sender": _sender(parsed),
        "subject": parsed.subject,
    }
    if not case.is_open:
        heading = (
            _("This case is closed (%(status)s); the citizen wrote again. Reopen it if needed.")
            % {"status": case.get_status_display()}
            + "\n"
            + heading
        )
    case_services.case_add_note(
        case_id=case.pk, actor=None, text=f"{heading}\n\n{_description(parsed)}".strip()
    )
    record.outcome = Outcome.ATTACHED
    record.case = case


def _keep_attachments(parsed: parsing.ParsedMessage, record: InboundMessage) -> None:
    """Each attachment through case_add_attachment; a refused one is named on the case."""
    kept: list[dict] = []
    refused: list[str] = []
    for part in parsed.attachments:
        entry = {"name": part.name, "size": len(part.payload), "kept": True, "reason": ""}
        try:
            case_services.case_add_attachment(
                case_id=record.case_id,
                file=SimpleUploadedFile(part.name, part.payload, part.content_type),
                actor=None,
            )
        except ValidationError as exc:
            entry.update(kept=False, reason="; ".join(exc.messages))
            refused.append(
                _("“%(name)s” (%(size)s bytes): %(reason)s")
                % {"name": part.name, "size": f"{len(part.payload):,}", "reason": entry["reason"]}
            )
        kept.append(entry)
    record.attachments = kept
    if refused:
        record.error = _("Attachments not kept: %(list)s") % {"list": "; ".join(refused)}
        case_services.case_add_note(
            case_id=record.case_id,
            actor=None,
            text=_("These attachments of the e-mail “%(subject)s” were not kept:")
            % {"subject": parsed.subject}
            + "\n"
            + "\n".join(f"- {line}" for line in refused),
        )
