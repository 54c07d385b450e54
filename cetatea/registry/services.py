"""Registering documents and acting on their legal terms.

Every write is one transaction. An entry's number is taken from its book's counter with
an UPDATE in that transaction (``_take_number``): concurrent clerks queue on the book's
row, and a registration that fails rolls its number back, so numbers have no gap and no
duplicate. Notices to the sender (extension, forwarding, refusal) are outgoing entries
of the same book, linked to the entry they are about, and e-mailed after commit when
the sender gave an address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.core import workdays
from cetatea.core.text import fold, name_key
from cetatea.people.models import Person
from cetatea.registry.choices import (
    CASE_CHANNEL,
    Direction,
    DocRegime,
    EntryStatus,
    EventKind,
    RegistryChannel,
    SenderKind,
)
from cetatea.registry.models import (
    DocumentType,
    Entry,
    EntryEvent,
    EntryFile,
    NomenclatorItem,
    RegistryBook,
    RegistryPoint,
)

# Unambiguous letters and digits (no 0/O, 1/I/L): read aloud on the phone, typed from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
MAX_SUMMARY = 4000
# A document dated a little ahead (a clock off by minutes) is not "in the future".
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def new_status_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def term_for(doc_type: DocumentType, registered_at: dt.datetime) -> dt.date | None:
    """The last day of the answer's term: ``term_days`` calendar days after the day of
    registration, rolled forward past non-working days (research §1.8)."""
    if doc_type.term_days is None:
        return None
    return workdays.term_end(workdays.local_date(registered_at), doc_type.term_days)


def book_for(point: RegistryPoint, year: int) -> RegistryBook:
    """The point's book for ``year``, opened on its first registration (1 January)."""
    book, _created = RegistryBook.objects.get_or_create(point=point, year=year)
    return book


def _by_submit_token(token: str) -> Entry | None:
    """The entry a form's one-time token registered. The lookup states the partial unique
    index's condition (``submit_token <> ''``): SQLite cannot infer it from the equality
    and would read the whole book instead (0.5 s a registration at 500,000 entries)."""
    return Entry.objects.filter(submit_token=token).exclude(submit_token="").first()


def _take_number(book: RegistryBook) -> int:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("_take_number() must run inside transaction.atomic()")
    RegistryBook.objects.filter(pk=book.pk).update(last_number=F("last_number") + 1)
    return RegistryBook.objects.values_list("last_number", flat=True).get(pk=book.pk)


def _event(entry: Entry, kind: str, actor, text: str = "", at=None, **data) -> EntryEvent:
    return EntryEvent.objects.create(
        entry=entry, kind=kind, actor=actor, text=text, data=data, created_at=at or timezone.now()
    )


def parse_number(text: str) -> tuple[str, int, int] | None:
    """``RG-1234/2026`` (or ``rg 1234/2026``) -> ("rg", 1234, 2026); None if malformed."""
    import re

    match = re.fullmatch(
        r"\s*([A-Za-z][A-Za-z0-9_-]*?)[\s-]*(\d{1,9})\s*/\s*(\d{4})\s*", text or ""
    )
    if not match:
        return None
    return match.group(1).lower(), int(match.group(2)), int(match.group(3))


def entry_by_number(text: str) -> Entry | None:
    parsed = parse_number(text)
    if parsed is None:
        return None
    code, number, year = parsed
    return (
        Entry.objects.select_related("book__point")
        .filter(book__point__code=code, book__year=year, number=number)
        .first()
    )


def _resolve_link(value, field: str, errors: dict) -> Entry | None:
    """An entry given as an Entry, an id or a number text; a missing one is an error."""
    if value in (None, ""):
        return None
    if isinstance(value, Entry):
        # Read it again: a caller's instance may be stale (answered since), and the
        # status decides between joining (art. 10(1)) and filing (art. 10(2)).
        value = value.pk
    found = None
    if isinstance(value, int):
        found = Entry.objects.filter(pk=value).first()
    else:
        found = entry_by_number(str(value))
    if found is None:
        errors[field] = [_("There is no registry entry “%(n)s”.") % {"n": value}]
    return found


def registry_entry_register(
    *,
    point: RegistryPoint,
    doc_type: DocumentType,
    summary: str,
    direction: str = Direction.INCOMING,
    channel: str = RegistryChannel.COUNTER,
    sender_kind: str = SenderKind.PERSON,
    sender_name: str = "",
    sender_address: str = "",
    sender_email: str = "",
    sender_phone: str = "",
    person: Person | None = None,
    sender_reference: str = "",
    sender_date: dt.date | None = None,
    pages: int = 1,
    annexes: int = 0,
    department=None,
    addressee: str = "",
    answers: Entry | int | str | None = None,
    joined_to: Entry | int | str | None = None,
    archive_item: NomenclatorItem | None = None,
    registered_at: dt.datetime | None = None,
    actor: AbstractBaseUser | None = None,
    submit_token: str = "",
    case_category=None,
) -> Entry:
    """Register a document: number it in the point's book of the year, compute its
    term, and for a petition (or any type that opens cases) open a Case through
    ``case_create``.

    An anonymous petition, or one without the sender's identification, is registered
    and filed without action (OG 27/2002 art. 7). A petition joined to an open entry
    takes that entry's term and answer (art. 10(1)); one joined to an entry already
    answered is filed with a note on the first one (art. 10(2)). ``submit_token`` makes a
    double submit return the entry already registered. Bad input raises
    ``ValidationError`` keyed by field and takes no number.
    """
    if submit_token:
        existing = _by_submit_token(submit_token)
        if existing is not None:
            return existing
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    summary = (summary or "").strip()
    sender_name = (sender_name or "").strip()[:200]
    if not summary:
        errors["summary"] = [_("Write what the document is about.")]
    elif len(summary) > MAX_SUMMARY:
        errors["summary"] = [_("The summary is longer than %(n)d characters.") % {"n": MAX_SUMMARY}]
    if direction not in Direction.values:
        errors["direction"] = [_("Unknown direction.")]
    if channel not in RegistryChannel.values:
        errors["channel"] = [_("Unknown channel.")]
    if sender_kind not in SenderKind.values:
        errors["sender_kind"] = [_("Unknown sender type.")]
    if not point.is_active:
        errors["point"] = [_("This registry point is closed.")]
    if not doc_type.is_active:
        errors["doc_type"] = [_("This document type is no longer used.")]
    registered_at = registered_at or now
    if registered_at > now + FUTURE_TOLERANCE:
        errors["registered_at"] = [_("A document cannot be registered in the future.")]
    if sender_date is not None and sender_date > workdays.local_date(now):
        errors["sender_date"] = [_("The sender's date is in the future.")]
    if not 0 < pages <= 10000:
        errors["pages"] = [_("The number of pages must be between 1 and 10,000.")]
    if not 0 <= annexes <= 10000:
        errors["annexes"] = [_("The number of annexes must be between 0 and 10,000.")]
    if (
        direction == Direction.INCOMING
        and sender_kind != SenderKind.ANONYMOUS
        and not (sender_name or person)
    ):
        errors["sender_name"] = [_("Write who sent the document (or mark it anonymous).")]
    if direction == Direction.OUTGOING and not addressee.strip():
        errors["addressee"] = [_("Write to whom the document goes.")]
    answers = _resolve_link(answers, "answers", errors)
    joined_to = _resolve_link(joined_to, "joined_to", errors)
    if answers is not None and direction != Direction.OUTGOING:
        errors["answers"] = [_("Only an outgoing document answers another one.")]
    if answers is not None and answers.direction != Direction.INCOMING:
        errors["answers"] = [_("An answer is linked to an incoming document.")]
    if errors:
        raise ValidationError(errors)
    if person is not None and not sender_name:
        sender_name = person.display_name
    if sender_kind == SenderKind.ANONYMOUS:
        sender_name, person = "", None

    status = EntryStatus.OPEN if direction == Direction.INCOMING else EntryStatus.DONE
    due_date = term_for(doc_type, registered_at) if status == EntryStatus.OPEN else None
    if status == EntryStatus.OPEN and due_date is None:
        status = EntryStatus.DONE  # nothing owed: correspondence for information
    resolution = ""
    petition = doc_type.regime == DocRegime.PETITION and direction == Direction.INCOMING
    identified = sender_kind != SenderKind.ANONYMOUS and bool(
        person or (sender_name and (sender_address or sender_email))
    )
    if petition and not identified:
        status, due_date = EntryStatus.FILED, None
        resolution = _(
            "Filed without action: anonymous or without identification (OG 27/2002 art. 7)."
        )
    if joined_to is not None and direction == Direction.INCOMING:
        if joined_to.status == EntryStatus.OPEN:
            status, due_date = EntryStatus.JOINED, joined_to.due_date
            resolution = _("Joined to %(n)s (OG 27/2002 art. 10(1)).") % {
                "n": joined_to.display_number
            }
        elif joined_to.status in (EntryStatus.ANSWERED, EntryStatus.JOINED, EntryStatus.DONE):
            status, due_date = EntryStatus.FILED, None
            resolution = _(
                "Filed: the same petition was answered under %(n)s (OG 27/2002 art. 10(2))."
            ) % {"n": joined_to.display_number}

    year = workdays.local_date(registered_at).year
    try:
        with transaction.atomic():
            book = book_for(point, year)
            number = _take_number(book)
            entry = Entry.objects.create(
                book=book,
                number=number,
                registered_at=registered_at,
                direction=direction,
                doc_type=doc_type,
                channel=channel,
                sender_reference=sender_reference.strip()[:60],
                sender_date=sender_date,
                pages=pages,
                annexes=annexes,
                sender_kind=sender_kind,
                sender_name=sender_name,
                sender_key=name_key(sender_name) if sender_name else "",
                sender_address=sender_address.strip()[:300],
                sender_email=sender_email.strip()[:254],
                sender_phone=sender_phone.strip()[:20],
                person=person,
                summary=summary,
                summary_key=fold(summary),
                department=department or point.department,
                addressee=addressee.strip()[:300],
                answers=answers,
                joined_to=joined_to,
                archive_item=archive_item,
                status=status,
                due_date=due_date,
                resolution=resolution,
                closed_at=None if status == EntryStatus.OPEN else registered_at,
                status_code=new_status_code(),
                registered_by=actor,
                submit_token=submit_token[:64],
            )
            _event(
                entry, EventKind.REGISTERED, actor, at=registered_at, number=entry.display_number
            )
            if joined_to is not None and direction == Direction.INCOMING:
                _event(joined_to, EventKind.JOINED, actor, resolution, joined=entry.display_number)
            if answers is not None:
                _mark_answered(answers, entry, actor, min(registered_at, now))
            if status == EntryStatus.OPEN and (doc_type.opens_case or petition):
                entry.case = _open_case(entry, doc_type, person, actor, case_category)
                entry.save(update_fields=["case"])
    except IntegrityError:
        if submit_token:
            existing = _by_submit_token(submit_token)
            if existing is not None:
                return existing
        raise
    return entry


def _open_case(entry: Entry, doc_type: DocumentType, person, actor, category):
    from cetatea.cases.services import Contact, case_create

    category = category or doc_type.case_category or "OTHER"
    return case_create(
        channel=CASE_CHANNEL[entry.channel],
        category=category,
        title=entry.summary.splitlines()[0][:200],
        description=entry.summary,
        requester=person,
        contact=None if person else Contact(name=entry.sender_name, email=entry.sender_email),
        actor=actor,
        registered_at=entry.registered_at,
        interaction_summary=_("Registered as %(n)s") % {"n": entry.display_number},
        external_id=f"registry:{entry.display_number}",
        # A registered petition keeps its legal term even without a Person record.
        regime=doc_type.regime if doc_type.regime != DocRegime.OTHER else None,
    )


def _mark_answered(incoming: Entry, answer: Entry, actor, now) -> None:
    """An outgoing answer closes the incoming entry (fields 9–11 of the register)."""
    locked = Entry.objects.select_for_update().get(pk=incoming.pk)
    if locked.status != EntryStatus.OPEN:
        _event(
            locked,
            EventKind.NOTE,
            actor,
            _("A further answer was registered."),
            answer=answer.display_number,
        )
        return
    locked.status = EntryStatus.ANSWERED
    locked.dispatched_at = answer.registered_at
    locked.addressee = answer.addressee
    locked.resolution = answer.summary[:2000]
    locked.closed_at = now
    locked.version += 1
    locked.save(
        update_fields=[
            "status",
            "dispatched_at",
            "addressee",
            "resolution",
            "closed_at",
            "version",
            "updated_at",
        ]
    )
    _event(locked, EventKind.ANSWERED, actor, answer=answer.display_number)
    for joined in Entry.objects.filter(joined_to=locked, status=EntryStatus.JOINED):
        joined.dispatched_at = answer.registered_at
        joined.closed_at = now
        joined.save(update_fields=["dispatched_at", "closed_at", "updated_at"])


def _locked_open(entry_id: int, version: int | None) -> Entry:
    entry = (
        Entry.objects.select_for_update().select_related("book__point", "doc_type").get(pk=entry_id)
    )
    if version is not None and entry.version != version:
        raise ValidationError(
            _("Someone else changed this entry meanwhile. Reload the page and try again."),
            code="stale",  # the clerk pages answer 409 Conflict
        )
    if entry.status != EntryStatus.OPEN:
        raise ValidationError(
            _("This entry is no longer being solved (%(s)s).") % {"s": entry.get_status_display()}
        )
    return entry


def _notice(entry: Entry, text: str, actor, now) -> Entry:
    """The notice to the sender: an outgoing entry of the same book linked to ``entry``,
    e-mailed after commit when the sender gave an address."""
    year = workdays.local_date(now).year
    book = book_for(entry.book.point, year)
    number = _take_number(book)
    notice = Entry.objects.create(
        book=book,
        number=number,
        registered_at=now,
        direction=Direction.OUTGOING,
        doc_type=entry.doc_type,
        channel=RegistryChannel.EMAIL if entry.sender_email else RegistryChannel.POST,
        sender_kind=SenderKind.INSTITUTION,
        sender_name="",
        summary=text,
        summary_key=fold(text),
        department=entry.department,
        addressee=entry.sender_name or entry.sender_email,
        joined_to=entry,
        status=EntryStatus.DONE,
        closed_at=now,
        status_code=new_status_code(),
        registered_by=actor,
        dispatched_at=now,
    )
    _event(notice, EventKind.REGISTERED, actor, at=now, number=notice.display_number)
    _event(entry, EventKind.NOTICE, actor, text, notice=notice.display_number)
    if entry.sender_email:
        subject = _("Registry entry %(n)s") % {"n": entry.display_number}
        body = f"{text}\n\n{_('Our number')}: {notice.display_number}"
        to = entry.sender_email
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=True)
        )
    return notice


def registry_entry_extend(
    *,
    entry_id: int,
    days: int,
    reason: str,
    actor: AbstractBaseUser,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Entry:
    """Extend the term once (OG 27/2002 art. 9: up to 15 days; Law 544/2001 art. 7(1):
    to 30 days in all, the notice within 10 days of registration), with notice."""
    now = now or timezone.now()
    if not actor.has_perm("registry.extend_entry"):
        raise PermissionError(_("You are not allowed to extend legal terms."))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("An extension needs a reason.")]})
    with transaction.atomic():
        entry = _locked_open(entry_id, version)
        kind = entry.doc_type
        if not kind.extension_days:
            raise ValidationError(
                {"days": [_("The term of this document type cannot be extended.")]}
            )
        if entry.extended_days:
            raise ValidationError({"days": [_("This term was already extended once.")]})
        if not 1 <= days <= kind.extension_days:
            raise ValidationError(
                {
                    "days": [
                        _("An extension is between 1 and %(n)d days.") % {"n": kind.extension_days}
                    ]
                }
            )
        registered = workdays.local_date(entry.registered_at)
        if kind.extension_notice_days is not None:
            last_notice_day = workdays.term_end(registered, kind.extension_notice_days)
            if workdays.local_date(now) > last_notice_day:
                raise ValidationError(
                    {
                        "days": [
                            _("Too late: the extension had to be notified by %(d)s.")
                            % {"d": last_notice_day.strftime("%d.%m.%Y")}
                        ]
                    }
                )
        if entry.due_date and workdays.local_date(now) > entry.due_date:
            raise ValidationError({"days": [_("The term has already passed.")]})
        old_due = entry.due_date
        entry.extended_days = days
        entry.due_date = workdays.term_end(registered, kind.term_days + days)
        entry.version += 1
        entry.save(update_fields=["extended_days", "due_date", "version", "updated_at"])
        _event(
            entry,
            EventKind.EXTENDED,
            actor,
            reason.strip(),
            at=now,
            days=days,
            old_due=old_due.isoformat() if old_due else None,
            new_due=entry.due_date.isoformat(),
        )
        text = _(
            "The term for answering your document %(n)s has been extended by %(d)d days, "
            "to %(due)s. Reason: %(r)s"
        ) % {
            "n": entry.display_number,
            "d": days,
            "due": entry.due_date.strftime("%d.%m.%Y"),
            "r": reason.strip(),
        }
        _notice(entry, text, actor, now)
        if entry.case_id:
            from cetatea.cases.services import case_extend_deadline

            if entry.case.regime == DocRegime.PETITION and not entry.case.extended_days:
                case_extend_deadline(case_id=entry.case_id, days=days, reason=reason, actor=actor)
    return entry


def registry_entry_forward(
    *,
    entry_id: int,
    to: str,
    reason: str,
    actor: AbstractBaseUser,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Entry:
    """Send a misdirected document to the competent authority, with notice to the sender
    (OG 27/2002 art. 6^1: within 5 days of registration). Forwarding later is still
    done, and recorded as late."""
    now = now or timezone.now()
    to = (to or "").strip()
    if not to:
        raise ValidationError({"to": [_("Write the authority it is forwarded to.")]})
    with transaction.atomic():
        entry = _locked_open(entry_id, version)
        limit = entry.doc_type.forward_days
        late = False
        if limit is not None:
            last = workdays.term_end(workdays.local_date(entry.registered_at), limit)
            late = workdays.local_date(now) > last
        entry.status = EntryStatus.FORWARDED
        entry.forwarded_to = to[:300]
        entry.dispatched_at = now
        entry.addressee = to[:300]
        entry.resolution = (reason or "").strip()[:2000] or _("Forwarded to %(to)s.") % {"to": to}
        entry.closed_at = now
        entry.version += 1
        entry.save(
            update_fields=[
                "status",
                "forwarded_to",
                "dispatched_at",
                "addressee",
                "resolution",
                "closed_at",
                "version",
                "updated_at",
            ]
        )
        _event(entry, EventKind.FORWARDED, actor, entry.resolution, at=now, to=to, late=late)
        text = _(
            "Your document %(n)s is not within our competence; it was forwarded to %(to)s, "
            "which will answer you."
        ) % {"n": entry.display_number, "to": to}
        _notice(entry, text, actor, now)
        _close_case(entry, actor, "not_responsible", text)
    return entry


def registry_entry_refuse(
    *,
    entry_id: int,
    reason: str,
    actor: AbstractBaseUser,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Entry:
    """A reasoned refusal (Law 544/2001 art. 7(2): within 5 days), sent to the sender."""
    now = now or timezone.now()
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("A refusal must give its reasons.")]})
    with transaction.atomic():
        entry = _locked_open(entry_id, version)
        if entry.doc_type.refusal_days is None:
            raise ValidationError({"reason": [_("This document type has no refusal procedure.")]})
        last = workdays.term_end(
            workdays.local_date(entry.registered_at), entry.doc_type.refusal_days
        )
        late = workdays.local_date(now) > last
        entry.status = EntryStatus.REFUSED
        entry.resolution = reason.strip()[:2000]
        entry.dispatched_at = now
        entry.closed_at = now
        entry.version += 1
        entry.save(
            update_fields=[
                "status",
                "resolution",
                "dispatched_at",
                "closed_at",
                "version",
                "updated_at",
            ]
        )
        _event(entry, EventKind.REFUSED, actor, entry.resolution, at=now, late=late)
        _notice(
            entry,
            _("Your request %(n)s is refused: %(r)s")
            % {"n": entry.display_number, "r": entry.resolution},
            actor,
            now,
        )
        _close_case(entry, actor, "unable_to_fix", entry.resolution)
    return entry


def registry_entry_file(
    *,
    entry_id: int,
    reason: str,
    actor: AbstractBaseUser,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Entry:
    """File an entry without action (clasare) with the reason."""
    now = now or timezone.now()
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Write why it is filed.")]})
    with transaction.atomic():
        entry = _locked_open(entry_id, version)
        entry.status = EntryStatus.FILED
        entry.resolution = reason.strip()[:2000]
        entry.closed_at = now
        entry.version += 1
        entry.save(update_fields=["status", "resolution", "closed_at", "version", "updated_at"])
        _event(entry, EventKind.FILED, actor, entry.resolution, at=now)
        _close_case(entry, actor, "withdrawn", entry.resolution)
    return entry


def registry_entry_answer(
    *,
    entry_id: int,
    summary: str,
    actor: AbstractBaseUser,
    channel: str = RegistryChannel.POST,
    addressee: str = "",
    pages: int = 1,
    archive_item: NomenclatorItem | None = None,
    submit_token: str = "",
    registered_at: dt.datetime | None = None,
) -> Entry:
    """Register the outgoing answer to an incoming entry; the incoming one is answered
    (dispatch date, how it was resolved, addressee) and its case is closed as fixed.
    ``registered_at`` records an answer sent earlier (history imported from another
    system, the demo data)."""
    incoming = Entry.objects.select_related("book__point", "doc_type").get(pk=entry_id)
    answer = registry_entry_register(
        point=incoming.book.point,
        doc_type=incoming.doc_type,
        summary=summary,
        direction=Direction.OUTGOING,
        channel=channel,
        sender_kind=SenderKind.INSTITUTION,
        addressee=addressee or incoming.sender_name or incoming.sender_email,
        pages=pages,
        answers=incoming,
        department=incoming.department,
        archive_item=archive_item or incoming.archive_item,
        actor=actor,
        submit_token=submit_token,
        registered_at=registered_at,
    )
    incoming.refresh_from_db()
    _close_case(incoming, actor, "fixed", summary, at=registered_at)
    return answer


def _close_case(entry: Entry, actor, status: str, text: str, at=None) -> None:
    """Close the entry's case too, when it is still open (best effort: a case closed
    meanwhile from the console stays as it is)."""
    if not entry.case_id:
        return
    from cetatea.cases.services import case_change_status

    case = entry.case
    if not case.is_open:
        return
    try:
        case_change_status(
            case_id=case.pk, status=status, actor=actor, text=text[:2000], public=True, at=at
        )
    except (ValidationError, PermissionError):
        pass


def registry_setup_load(*, data: dict) -> dict[str, int]:
    """Create or update registry points, document types and nomenclator files by code.
    Departments and case categories are named by their codes (``load_catalog``)."""
    from cetatea.catalog.models import Category, Department

    departments = {d.code: d for d in Department.objects.all()}
    categories = {c.code: c for c in Category.objects.all()}
    counts = {"points": 0, "document types": 0, "nomenclator": 0}
    with transaction.atomic():
        for row in data.get("points", []):
            RegistryPoint.objects.update_or_create(
                code=row["code"],
                defaults={
                    "name_ro": row["name_ro"],
                    "name_en": row.get("name_en", ""),
                    "department": departments.get(row.get("department", "")),
                    "is_general": row.get("is_general", False),
                },
            )
            counts["points"] += 1
        fields = (
            "regime",
            "term_days",
            "extension_days",
            "extension_notice_days",
            "forward_days",
            "refusal_days",
            "opens_case",
            "sort_order",
        )
        for row in data.get("document_types", []):
            defaults = {f: row[f] for f in fields if f in row}
            defaults |= {
                "name_ro": row["name_ro"],
                "name_en": row.get("name_en", ""),
                "case_category": categories.get(row.get("case_category", "")),
            }
            DocumentType.objects.update_or_create(code=row["code"], defaults=defaults)
            counts["document types"] += 1
        for row in data.get("nomenclator", []):
            NomenclatorItem.objects.update_or_create(
                code=row["code"],
                defaults={
                    "title": row["title"],
                    "retention_years": row.get("retention_years"),
                    "department": departments.get(row.get("department", "")),
                },
            )
            counts["nomenclator"] += 1
    return counts


def registry_online_submit(
    *,
    kind: str,
    name: str,
    address: str,
    email: str,
    phone: str = "",
    summary: str,
    submission_key: str = "",
    status_url: str = "",
) -> Entry:
    """A petition or a public-information request sent from the city's website: it is
    registered in the general registry with channel "web" (OG 27/2002 art. 2 and OUG
    38/2020 take electronic petitions), opens its case, and the sender gets the number,
    the term and the status code by e-mail after commit (research §3.5)."""
    errors: dict[str, list[str]] = {}
    point = RegistryPoint.objects.filter(is_general=True, is_active=True).first()
    doc_type = DocumentType.objects.filter(code=kind, is_active=True).first()
    if point is None:
        errors["__all__"] = [_("The online registry is not available; please try later.")]
    if doc_type is None or doc_type.regime not in (DocRegime.PETITION, DocRegime.INFO_544):
        errors["kind"] = [_("Choose what you are sending.")]
    if not (name or "").strip():
        errors["name"] = [_("Write your name: anonymous petitions are filed without action.")]
    if not (address or "").strip():
        errors["address"] = [_("Write your address: it identifies you and we answer to it.")]
    if not (email or "").strip():
        errors["email"] = [_("Write your e-mail address: the answer comes there.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        entry = registry_entry_register(
            point=point,
            doc_type=doc_type,
            summary=summary,
            channel=RegistryChannel.WEB,
            sender_kind=SenderKind.PERSON,
            sender_name=name,
            sender_address=address,
            sender_email=email,
            sender_phone=phone,
            submit_token=f"web:{submission_key}" if submission_key else "",
        )
        # A double submit returns the same entry: acknowledge it once.
        Entry.objects.select_for_update().filter(pk=entry.pk).first()
        if not entry.events.filter(kind=EventKind.NOTICE, data__acknowledgement=True).exists():
            _acknowledge(entry, status_url)
    return entry


def _acknowledge(entry: Entry, status_url: str) -> None:
    """The registration e-mail: number, date, term, status code (once per entry)."""
    lines = [
        _("Your document was registered with number %(n)s on %(d)s.")
        % {
            "n": entry.display_number,
            "d": timezone.localtime(entry.registered_at).strftime("%d.%m.%Y %H:%M"),
        },
    ]
    if entry.due_date:
        lines.append(_("The answer is due by %(d)s.") % {"d": entry.due_date.strftime("%d.%m.%Y")})
    lines.append(_("Status code: %(c)s") % {"c": entry.status_code})
    if status_url:
        lines.append(_("Check the status at %(url)s") % {"url": status_url})
    body = "\n".join(lines)
    _event(entry, EventKind.NOTICE, None, body, acknowledgement=True)
    subject = _("Registered: %(n)s") % {"n": entry.display_number}
    to = entry.sender_email
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=True)
    )


# --- the clerk's counter (views.py): a new sender, the entry, its scans -----------------------

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILES = 10
# Scans are recognised by their first bytes; the name and the browser's content type are
# not trusted, so a renamed .exe is refused. Detected type -> (content type, extension).
_SCAN_MAGIC = (
    (b"%PDF-", ("application/pdf", "pdf")),
    (b"\xff\xd8\xff", ("image/jpeg", "jpg")),
    (b"\x89PNG\r\n\x1a\n", ("image/png", "png")),
)


def _stale() -> ValidationError:
    return ValidationError(
        _("Someone else changed this entry meanwhile. Reload the page and try again."),
        code="stale",
    )


def entry_file_kind(file) -> tuple[str, str]:
    """(content type, extension) of a scan read from its content: PDF, JPEG or PNG, not
    empty, at most ``MAX_FILE_BYTES``. Anything else raises ``ValidationError``."""
    name = Path(getattr(file, "name", "") or "").name or _("file")
    size = getattr(file, "size", None) or 0
    if size <= 0:
        raise ValidationError(_("The file “%(name)s” is empty.") % {"name": name}, code="empty")
    if size > MAX_FILE_BYTES:
        raise ValidationError(
            _("The file “%(name)s” is larger than %(mb)d MB.")
            % {"name": name, "mb": MAX_FILE_BYTES // (1024 * 1024)},
            code="too_large",
        )
    file.seek(0)
    head = file.read(16) or b""
    file.seek(0)
    for magic, kind in _SCAN_MAGIC:
        if head.startswith(magic):
            return kind
    raise ValidationError(
        _("The file “%(name)s” is not a PDF, JPEG or PNG scan.") % {"name": name},
        code="file_type",
    )


def _sha256(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(65536), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def registry_entry_add_file(
    *, entry_id: int, file, actor: AbstractBaseUser | None, version: int | None = None
) -> EntryFile:
    """Attach a scan (PDF, JPEG or PNG, checked by content) to an entry, in the private
    storage with its sha256. The same content attached twice is stored once: a double
    submit adds nothing. ``version``, when given, must still be the entry's."""
    content_type, extension = entry_file_kind(file)
    digest = _sha256(file)
    name = Path(file.name or "").name[-200:] or f"scan.{extension}"
    with transaction.atomic():
        entry = Entry.objects.select_for_update().select_related("book__point").get(pk=entry_id)
        if version is not None and entry.version != version:
            raise _stale()
        existing = entry.files.filter(sha256=digest).first()
        if existing is not None:
            return existing
        row = EntryFile(
            entry=entry,
            original_name=name,
            content_type=content_type,
            size=file.size,
            sha256=digest,
            uploaded_by=actor,
        )
        # The private storage as configured now: a FileField evaluates a callable storage
        # once, when the model is imported, so tests that move it would write elsewhere.
        row.file.storage = storages["private"]
        # A random stored name: what the sender called the file never becomes a path.
        row.file.save(f"{uuid.uuid4().hex}.{extension}", file, save=False)
        try:
            row.save()
            _event(entry, EventKind.FILE, actor, name, file_id=row.pk, sha256=digest)
        except Exception:
            row.file.delete(save=False)  # no orphan file when the row is not written
            raise
    return row


@dataclass(frozen=True)
class NewSender:
    """A sender recorded as a person at the counter (``person_create``: CNP or CUI
    checked, phone and e-mail as contact points)."""

    last_name: str
    first_name: str = ""
    national_id: str = ""
    organisation: bool = False


@dataclass
class CounterResult:
    entry: Entry
    files: list[EntryFile] = field(default_factory=list)
    not_stored: list[str] = field(default_factory=list)  # scans the storage refused


def registry_counter_register(
    *,
    new_sender: NewSender | None = None,
    files=(),
    **register,
) -> CounterResult:
    """The clerk's register form: record a new sender as a person, register the document
    (``registry_entry_register``, same arguments), then store its scans.

    Every mistake is reported at once, keyed by field (``new_national_id``, ``files``,
    the register's own fields), and nothing is kept: the person and the entry are one
    transaction, so a refused registration leaves no person and gives its number back.
    The scans are checked before anything is written and stored right after the commit,
    so the book's counter is never held while megabytes are written; a double submit
    (same ``submit_token``) returns the entry registered first and stores nothing twice.
    """
    from cetatea.people.choices import PersonKind
    from cetatea.people.services import person_create

    errors: dict[str, list[str]] = {}
    files = list(files)
    if len(files) > MAX_FILES:
        errors["files"] = [_("At most %(n)d files at once.") % {"n": MAX_FILES}]
    for upload in files:
        try:
            entry_file_kind(upload)
        except ValidationError as exc:
            errors.setdefault("files", []).extend(exc.messages)
    actor = register.get("actor")
    token = register.get("submit_token", "")
    first = Entry.objects.filter(submit_token=token).first() if token else None
    if first is not None:  # a double submit: the entry registered the first time
        register, new_sender = {}, None
    if register.get("sender_kind") == SenderKind.ANONYMOUS:
        new_sender = None  # an anonymous document names nobody
    with transaction.atomic():
        if first is not None:
            entry = first
        elif new_sender is not None and register.get("person") is None:
            kind = PersonKind.ORGANISATION if new_sender.organisation else PersonKind.INDIVIDUAL
            try:
                register["person"] = person_create(
                    last_name=new_sender.last_name,
                    first_name=new_sender.first_name,
                    kind=kind,
                    national_id=new_sender.national_id,
                    phones=[p for p in [register.get("sender_phone", "")] if p],
                    emails=[e for e in [register.get("sender_email", "")] if e],
                    actor=actor,
                )
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    errors[{"contacts": "sender_phone"}.get(key, f"new_{key}")] = messages
                if not register.get("sender_name"):
                    name = f"{new_sender.last_name} {new_sender.first_name}".strip()
                    register["sender_name"] = name
        if first is None:
            try:
                entry = registry_entry_register(**register)
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    errors.setdefault(key, []).extend(messages)
        if errors:
            raise ValidationError(errors)  # rolls back the person and gives the number back
        created = register.get("person")
        if new_sender is not None and created is not None and entry.person_id != created.pk:
            # A concurrent double submit registered the entry first: drop our new person.
            transaction.set_rollback(True)
    result = CounterResult(entry=entry)
    for upload in files:
        try:
            result.files.append(
                registry_entry_add_file(entry_id=entry.pk, file=upload, actor=actor)
            )
        except OSError:
            result.not_stored.append(Path(upload.name or "").name)
    return result


def registry_entry_answer_checked(
    *,
    entry_id: int,
    version: int,
    summary: str,
    actor: AbstractBaseUser,
    channel: str = RegistryChannel.POST,
    addressee: str = "",
    pages: int = 1,
    submit_token: str = "",
) -> Entry:
    """``registry_entry_answer`` from the entry page: the entry must still be at the
    ``version`` the clerk saw (locked while the answer is registered). A double submit
    (same ``submit_token``) returns the answer registered first."""
    if submit_token:
        existing = _by_submit_token(submit_token)
        if existing is not None:
            return existing
    with transaction.atomic():
        incoming = Entry.objects.select_for_update().get(pk=entry_id)
        if incoming.version != version:
            raise _stale()
        if incoming.direction != Direction.INCOMING:
            raise ValidationError(
                {"summary": [_("Only an incoming document is answered.")]}, code="invalid"
            )
        return registry_entry_answer(
            entry_id=entry_id,
            summary=summary,
            actor=actor,
            channel=channel,
            addressee=addressee,
            pages=pages,
            submit_token=submit_token,
        )
