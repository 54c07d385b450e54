"""Writes on cases. Every channel files through ``case_create``."""

from __future__ import annotations

import datetime as dt
import mimetypes
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.cases import due, maprollup
from cetatea.cases.choices import (
    CLOSED_STATUSES,
    PAUSED_STATUSES,
    TRANSITIONS,
    Channel,
    Direction,
    EventKind,
    Handler,
    Priority,
    Publication,
    Status,
)
from cetatea.cases.models import Attachment, Case, CaseEvent, Interaction
from cetatea.catalog.choices import Regime
from cetatea.catalog.geo import area_for_point
from cetatea.catalog.models import Category, Department
from cetatea.catalog.selectors import category_route
from cetatea.core import workdays
from cetatea.core.identifiers import normalize_email_address, normalize_phone
from cetatea.core.sequences import next_number
from cetatea.notify import services as notify
from cetatea.people.models import Person

MAX_TITLE = 200
MAX_DESCRIPTION = 10_000


@dataclass(frozen=True)
class Contact:
    """Contact details of a requester who is not (yet) a known Person."""

    name: str = ""
    email: str = ""
    phone: str = ""


def case_reference(year: int, sequence: int) -> str:
    return f"{settings.CETATEA_CASE_PREFIX}-{year}-{sequence:06d}"


def _resolve_category(category: Category | str) -> Category:
    if isinstance(category, Category):
        return category
    found = Category.objects.filter(code=str(category).strip(), is_active=True).first()
    if found is None:
        raise ValidationError(
            {"category": [_("The category “%(code)s” does not exist.") % {"code": category}]}
        )
    return found


def _survivor(person: Person) -> Person:
    """A merged person's records live on its survivor."""
    seen = 0
    while person.merged_into_id and seen < 10:
        person = person.merged_into
        seen += 1
    return person


def case_create(
    *,
    channel: str,
    category: Category | str,
    title: str = "",
    description: str = "",
    requester: Person | None = None,
    contact: Contact | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    address_text: str = "",
    priority: int = Priority.NORMAL,
    actor: AbstractBaseUser | None = None,
    handler: str = Handler.STAFF,
    registered_at: dt.datetime | None = None,
    interaction_summary: str = "",
    external_id: str = "",
    publication: str = Publication.PRIVATE,
    show_name: bool = False,
    answers: dict | None = None,
    regime: str | None = None,
) -> Case:
    """File a request from any channel.

    Validates the input, places the point in its area, routes the case to the
    department (or outside operator) for the category and area, computes the due time,
    and writes the Case, its first event and the Interaction in one transaction.
    ``external_id`` (a message id, a client's idempotency key) makes a repeated submit
    return the case already filed instead of a second one. Bad input raises
    ``ValidationError`` keyed by field and writes nothing.
    """
    errors: dict[str, list[str]] = {}
    if channel not in Channel.values:
        errors["channel"] = [_("Unknown channel “%(channel)s”.") % {"channel": channel}]
    if handler not in Handler.values:
        errors["handler"] = [_("Unknown handler.")]
    try:
        category = _resolve_category(category)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        category = None
    title = (title or "").strip()
    description = (description or "").strip()
    if not title and category is not None:
        title = category.name_ro
    if len(title) > MAX_TITLE:
        errors["title"] = [_("The title is longer than %(n)d characters.") % {"n": MAX_TITLE}]
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = [
            _("The description is longer than %(n)d characters.") % {"n": MAX_DESCRIPTION}
        ]
    if priority not in Priority.values:
        errors["priority"] = [_("Unknown priority.")]
    if publication not in Publication.values:
        errors["publication"] = [_("Unknown publication state.")]
    area = None
    if (latitude is None) != (longitude is None):
        errors["location"] = [_("The location needs both latitude and longitude.")]
    elif latitude is not None:
        try:
            area = area_for_point(latitude, longitude)
        except ValidationError as exc:
            errors["location"] = exc.messages
    contact = contact or Contact()
    contact_phone = contact_email = ""
    if contact.phone:
        try:
            contact_phone = normalize_phone(contact.phone)
        except ValidationError as exc:
            errors["contact_phone"] = exc.messages
    if contact.email:
        try:
            contact_email = normalize_email_address(contact.email)
        except ValidationError as exc:
            errors["contact_email"] = exc.messages
    if errors:
        raise ValidationError(errors)
    if requester is not None:
        requester = _survivor(requester)

    if external_id:
        existing = _case_for_external_id(channel, external_id)
        if existing is not None:
            return existing

    department, operator, team = category_route(category=category, area=area)
    registered_at = registered_at or timezone.now()
    if regime is None:
        # Identified requests are petitions (or 544 requests) by their category; a
        # report without a known person is an operational ticket (research §1.4). The
        # registry passes the regime of the document it registered.
        regime = category.regime if requester is not None else Regime.TICKET
    due_at, base = due.initial_due_at(
        regime=regime, registered_at=registered_at, target_hours=category.target_hours
    )
    year = workdays.local_date(registered_at).year
    try:
        with transaction.atomic():
            sequence = next_number("case", year)
            case = Case.objects.create(
                reference=case_reference(year, sequence),
                year=year,
                sequence=sequence,
                channel=channel,
                category=category,
                department=department,
                operator=operator,
                team=team,
                area=area,
                latitude=latitude if area else None,
                longitude=longitude if area else None,
                address_text=address_text.strip()[:300],
                requester=requester,
                contact_name=contact.name.strip()[:200],
                contact_email=contact_email,
                contact_phone=contact_phone,
                title=title,
                description=description,
                priority=priority,
                regime=regime,
                registered_at=registered_at,
                due_at=due_at,
                legal_base_date=base,
                publication=publication,
                show_name=show_name,
                answers=answers or {},
            )
            maprollup.add(case)
            CaseEvent.objects.create(
                case=case,
                kind=EventKind.CREATED,
                actor=actor,
                handler=handler,
                to_status=Status.NEW,
                is_public=True,
                created_at=registered_at,
                data={"channel": channel, "department": department.code if department else ""},
            )
            Interaction.objects.create(
                person=requester,
                case=case,
                channel=channel,
                direction=Direction.INBOUND,
                handler=handler,
                handled_by=actor,
                occurred_at=registered_at,
                summary=(interaction_summary or title)[:2000],
                external_id=external_id[:200],
            )
            notify.notify_case_created(case=case, handler=handler)  # sent after commit
    except IntegrityError:
        # A concurrent identical submit won the race on the external id: return its case.
        if external_id:
            existing = _case_for_external_id(channel, external_id)
            if existing is not None:
                return existing
        raise
    return case


def _case_for_external_id(channel: str, external_id: str) -> Case | None:
    interaction = (
        Interaction.objects.filter(channel=channel, external_id=external_id[:200])
        .select_related("case")
        .first()
    )
    return interaction.case if interaction else None


def _locked(case_id: int) -> Case:
    try:
        return Case.objects.select_for_update().get(pk=case_id)
    except Case.DoesNotExist as exc:
        raise ValidationError(_("This case does not exist.")) from exc


def case_change_status(
    *,
    case_id: int,
    status: str,
    actor: AbstractBaseUser | None,
    text: str = "",
    public: bool = True,
    handler: str = Handler.STAFF,
    at: dt.datetime | None = None,
) -> Case:
    """Move a case to another status if the transition table allows it.

    Entering "waiting for the citizen" stops the clock; leaving it moves the due time
    by the time spent waiting (whole calendar days for legal terms). ``at`` records a
    change that happened earlier (history imported from another system); it cannot be
    in the future nor before the case's last event.
    """
    if status not in Status.values:
        raise ValidationError(_("Unknown status “%(status)s”.") % {"status": status})
    with transaction.atomic():
        case = _locked(case_id)
        if status not in TRANSITIONS[case.status]:
            raise ValidationError(
                _("A case that is “%(old)s” cannot become “%(new)s”.")
                % {"old": Status(case.status).label, "new": Status(status).label}
            )
        now = _event_time(case, at)
        old = case.status
        fields = ["status", "updated_at"]
        if status in PAUSED_STATUSES and case.paused_since is None:
            case.paused_since = now
            fields.append("paused_since")
        elif status not in PAUSED_STATUSES and case.paused_since is not None:
            _resume_clock(case, now)
            fields += ["paused_since", "due_at", "legal_base_date"]
        if status in CLOSED_STATUSES:
            case.closed_at = now
            fields.append("closed_at")
        elif old in CLOSED_STATUSES:
            case.closed_at = None
            fields.append("closed_at")
        with maprollup.track(case):
            case.status = status
            case.save(update_fields=fields)
        event = CaseEvent.objects.create(
            case=case,
            kind=EventKind.STATUS,
            actor=actor,
            handler=handler,
            from_status=old,
            to_status=status,
            text=text,
            is_public=public,
            created_at=now,
        )
        notify.notify_case_event(event=event, handler=handler, backdated=at is not None)
    return case


def _event_time(case: Case, at: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    if at is None:
        return now
    last = case.events.order_by("-created_at").values_list("created_at", flat=True).first()
    if at > now or (last is not None and at < last):
        raise ValidationError(_("The time of a change must be after the previous one."))
    return at


def _resume_clock(case: Case, now: dt.datetime) -> None:
    if case.legal_base_date is not None:
        waited = (workdays.local_date(now) - workdays.local_date(case.paused_since)).days
        case.legal_base_date += dt.timedelta(days=waited)
        case.due_at = due.legal_due_at(case.legal_base_date, case.extended_days)
    else:
        case.due_at += now - case.paused_since
    case.paused_since = None


def case_extend_deadline(*, case_id: int, days: int, reason: str, actor: AbstractBaseUser) -> Case:
    """Extend a petition's term once, by at most 15 days (OG 27/2002 art. 9).

    The citizen must be told; the reason is kept on a public event.
    """
    if not actor.has_perm("cases.extend_deadline"):
        raise PermissionError(_("You are not allowed to extend legal terms."))
    if not reason.strip():
        raise ValidationError(_("An extension needs a reason."))
    if not 1 <= days <= workdays.PETITION_EXTENSION_MAX_DAYS:
        raise ValidationError(
            _("An extension is between 1 and %(n)d days.")
            % {"n": workdays.PETITION_EXTENSION_MAX_DAYS}
        )
    with transaction.atomic():
        case = _locked(case_id)
        if case.regime != Regime.PETITION:
            raise ValidationError(_("Only a petition's term can be extended."))
        if case.extended_days:
            raise ValidationError(_("This petition's term was already extended once."))
        if not case.is_open:
            raise ValidationError(_("A closed case cannot be extended."))
        old_due = case.due_at
        case.extended_days = days
        case.due_at = due.legal_due_at(case.legal_base_date, days)
        case.save(update_fields=["extended_days", "due_at", "updated_at"])
        CaseEvent.objects.create(
            case=case,
            kind=EventKind.DUE_CHANGE,
            actor=actor,
            text=reason,
            is_public=True,
            data={"old_due": old_due.isoformat(), "new_due": case.due_at.isoformat(), "days": days},
        )
    return case


def case_add_note(
    *,
    case_id: int,
    text: str,
    actor: AbstractBaseUser | None,
    public: bool = False,
    at: dt.datetime | None = None,
) -> CaseEvent:
    """Add an internal note or a public reply to a case (``at``: see case_change_status)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("The text is empty."))
    with transaction.atomic():
        case = _locked(case_id)
        event = CaseEvent.objects.create(
            case=case,
            kind=EventKind.PUBLIC_REPLY if public else EventKind.INTERNAL_NOTE,
            actor=actor,
            text=text,
            is_public=public,
            created_at=_event_time(case, at),
        )
        notify.notify_case_event(event=event, backdated=at is not None)
        return event


def case_assign(
    *,
    case_id: int,
    assignee: AbstractBaseUser | None,
    actor: AbstractBaseUser | None,
    at: dt.datetime | None = None,
) -> Case:
    """Give a case to a staff member (or take it back with ``assignee=None``)."""
    if assignee is not None and not assignee.is_active:
        raise ValidationError(_("This account is not active."))
    with transaction.atomic():
        case = _locked(case_id)
        old = case.assignee_id
        case.assignee = assignee
        case.save(update_fields=["assignee", "updated_at"])
        CaseEvent.objects.create(
            case=case,
            kind=EventKind.ASSIGNMENT,
            actor=actor,
            data={"from": old, "to": assignee.pk if assignee else None},
            created_at=_event_time(case, at),
        )
    return case


MAX_FORWARD_REASON = 2000


def _resolve_department(department: Department | str) -> Department:
    code = department.code if isinstance(department, Department) else str(department).strip()
    # Read again (not the caller's instance): it may have been deactivated meanwhile.
    found = Department.objects.filter(code=code).first()
    if found is None:
        raise ValidationError(
            {"department": [_("The department “%(code)s” does not exist.") % {"code": code}]}
        )
    if not found.is_active:
        raise ValidationError(
            {"department": [_("The department “%(name)s” is not active.") % {"name": found}]}
        )
    return found


def case_forward(
    *,
    case_id: int,
    department: Department | str,
    actor: AbstractBaseUser | None,
    reason: str = "",
    at: dt.datetime | None = None,
) -> Case:
    """Send an open case to another department (by instance or code), with a reason.

    The new department triages it, so the team and the assignee are cleared; the due
    time is kept (the citizen's clock does not restart). An internal "forwarded" event
    records the reason and the departments' codes (the forwarding rate is counted from
    these events). ``at``: see case_change_status.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the case goes to another department.")]})
    if len(reason) > MAX_FORWARD_REASON:
        raise ValidationError(
            {
                "reason": [
                    _("The reason is longer than %(n)d characters.") % {"n": MAX_FORWARD_REASON}
                ]
            }
        )
    target = _resolve_department(department)
    with transaction.atomic():
        case = _locked(case_id)
        if not case.is_open:
            raise ValidationError(_("A closed case cannot be forwarded."))
        if case.department_id == target.pk:
            raise ValidationError(
                {
                    "department": [
                        _("The case is already in the department “%(name)s”.") % {"name": target}
                    ]
                }
            )
        now = _event_time(case, at)
        old_code = case.department.code if case.department_id else ""
        case.department = target
        case.team = None
        case.assignee = None
        case.save(update_fields=["department", "team", "assignee", "updated_at"])
        CaseEvent.objects.create(
            case=case,
            kind=EventKind.FORWARDED,
            actor=actor,
            text=reason,
            is_public=False,
            data={"from": old_code, "to": target.code},
            created_at=now,
        )
    return case


def interaction_log(
    *,
    channel: str,
    person: Person | None = None,
    case: Case | None = None,
    direction: str = Direction.INBOUND,
    handler: str = Handler.STAFF,
    handled_by: AbstractBaseUser | None = None,
    summary: str = "",
    occurred_at: dt.datetime | None = None,
    duration_seconds: int | None = None,
    external_id: str = "",
) -> Interaction:
    """Record one contact (a call, a visit, an e-mail) that did not open a new case.

    With an ``external_id`` (a call id) the same contact is recorded once.
    """
    errors: dict[str, list[str]] = {}
    if channel not in Channel.values:
        errors["channel"] = [_("Unknown channel “%(channel)s”.") % {"channel": channel}]
    if direction not in Direction.values:
        errors["direction"] = [_("Unknown direction.")]
    if person is None and case is None:
        errors["person"] = [_("An interaction belongs to a person or a case.")]
    if duration_seconds is not None and duration_seconds < 0:
        errors["duration_seconds"] = [_("A duration cannot be negative.")]
    if errors:
        raise ValidationError(errors)
    if person is not None:
        person = _survivor(person)
    if person is None and case is not None:
        person = case.requester
    values = {
        "person": person,
        "case": case,
        "direction": direction,
        "handler": handler,
        "handled_by": handled_by,
        "summary": summary[:2000],
        "occurred_at": occurred_at or timezone.now(),
        "duration_seconds": duration_seconds,
    }
    if external_id:
        # exclude(""): the condition of the partial unique index, written out so that
        # SQLite reads the index instead of scanning every interaction.
        interaction, _created = Interaction.objects.exclude(external_id="").get_or_create(
            channel=channel, external_id=external_id[:200], defaults=values
        )
        return interaction
    return Interaction.objects.create(channel=channel, **values)


def case_merge(
    *, duplicate_id: int, original_id: int, actor: AbstractBaseUser | None, text: str = ""
) -> Case:
    """Close ``duplicate`` as a duplicate of ``original``; both timelines say so.

    The duplicate's requester and contacts stay on it (and its interactions point at it),
    so nothing is lost; the original carries a "merge" event naming the duplicate.
    """
    if duplicate_id == original_id:
        raise ValidationError(_("A case cannot be merged with itself."))
    with transaction.atomic():
        locked = {
            c.pk: c
            for c in Case.objects.select_for_update()
            .filter(pk__in=sorted([duplicate_id, original_id]))
            .order_by("pk")
        }
        if len(locked) != 2:
            raise ValidationError(_("This case does not exist."))
        duplicate, original = locked[duplicate_id], locked[original_id]
        if duplicate.merged_into_id or not duplicate.is_open:
            raise ValidationError(
                _("Case %(ref)s is already closed or merged.") % {"ref": duplicate.reference}
            )
        if original.merged_into_id:
            raise ValidationError(
                _("Case %(ref)s was itself merged; merge into the case it points to.")
                % {"ref": original.reference}
            )
        now = timezone.now()
        old = duplicate.status
        with maprollup.track(duplicate):
            duplicate.status = Status.DUPLICATE
            duplicate.merged_into = original
            duplicate.closed_at = now
            duplicate.paused_since = None
            duplicate.save(
                update_fields=["status", "merged_into", "closed_at", "paused_since", "updated_at"]
            )
        CaseEvent.objects.create(
            case=duplicate,
            kind=EventKind.MERGE,
            actor=actor,
            from_status=old,
            to_status=Status.DUPLICATE,
            text=text,
            is_public=True,
            data={"into": original.reference},
        )
        CaseEvent.objects.create(
            case=original,
            kind=EventKind.MERGE,
            actor=actor,
            text=text,
            data={"from": duplicate.reference},
        )
    return original


MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


def case_add_attachment(
    *,
    case_id: int,
    file: UploadedFile,
    actor: AbstractBaseUser | None,
    public: bool = False,
) -> Attachment:
    """Attach a file (scan, document, photo) to a case, within the size limit.

    The content type recorded is the one guessed from the name; files are served as
    downloads, never executed. Photo processing lives with the map portal.
    """
    if file.size is None or file.size == 0:
        raise ValidationError(_("The file is empty."))
    if file.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            _("The file is larger than %(mb)d MB.") % {"mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)}
        )
    name = Path(file.name or "file").name[-200:]
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    with transaction.atomic():
        case = _locked(case_id)
        attachment = Attachment(
            case=case,
            original_name=name,
            content_type=content_type,
            size=file.size,
            is_public=public,
            uploaded_by=actor,
        )
        attachment.file.save(
            f"{uuid.uuid4().hex}{Path(name).suffix.lower()[:10]}", file, save=False
        )
        try:
            attachment.save()
        except Exception:
            attachment.file.delete(save=False)  # no orphan file when the row is not written
            raise
    return attachment
