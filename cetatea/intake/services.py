"""Writes of the operator's intake form, the field crews and the escalation job."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cetatea.cases import photos as photo_service
from cetatea.cases.choices import TRANSITIONS, Channel, EventKind, Handler, Status
from cetatea.cases.models import Case, CaseEvent, Interaction
from cetatea.cases.services import case_add_note, case_change_status, case_create, interaction_log
from cetatea.catalog.geo import area_for_point
from cetatea.catalog.models import Category
from cetatea.core import roles
from cetatea.core.identifiers import normalize_email_address, normalize_phone
from cetatea.intake import selectors
from cetatea.intake.choices import EscalationLevel, EscalationReason
from cetatea.intake.models import Escalation, EscalationContact
from cetatea.people.models import Person
from cetatea.people.services import person_create

logger = logging.getLogger(__name__)

INTAKE_CHANNELS = (Channel.PHONE, Channel.COUNTER)
MAX_SUMMARY = 2000
MAX_FIELD_PHOTOS = 3


@dataclass(frozen=True)
class NewPerson:
    """A caller recorded on the spot, from the intake form."""

    last_name: str
    first_name: str = ""
    national_id: str = ""
    phone: str = ""
    email: str = ""


def _check_channel(channel: str, errors: dict) -> None:
    if channel not in INTAKE_CHANNELS:
        errors["channel"] = [_("Choose phone or counter.")]


def _external_id(submission_key: str, suffix: str = "") -> str:
    # Not the call id itself: the call's own Interaction (CTI hangup) is keyed by it.
    key = "".join(ch for ch in (submission_key or "") if ch.isalnum())[:64]
    return f"intake:{key}{suffix}" if key else ""


def _summary(text: str, call_id: str) -> str:
    text = (text or "").strip()
    if call_id:
        text = f"{text}\n[call {call_id[:100]}]".strip()
    return text[:MAX_SUMMARY]


def intake_file(
    *,
    channel: str,
    category: str,
    actor: AbstractBaseUser,
    description: str = "",
    title: str = "",
    person: Person | None = None,
    new_person: NewPerson | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    address_text: str = "",
    call_id: str = "",
    submission_key: str = "",
) -> Case:
    """File a phone or counter request, recording the caller first when they are new.

    Everything is checked before the case is filed (channel, category, place inside the
    city, the new person's name, CNP, phone and e-mail); errors are keyed by the form's
    field names (``new_phone`` ...) and nothing is written. The new person and the case are
    written in one transaction. A repeated submit of the same form (``submission_key``)
    returns the case already filed.
    """
    errors: dict[str, list[str]] = {}
    _check_channel(channel, errors)
    if not Category.objects.filter(code=(category or "").strip(), is_active=True).exists():
        errors["category"] = [_("Choose the category of the request.")]
    if (latitude is None) != (longitude is None):
        errors["location"] = [_("The location needs both latitude and longitude.")]
    elif latitude is not None:
        try:
            area_for_point(latitude, longitude)
        except ValidationError as exc:
            errors["location"] = exc.messages
    if person is not None and new_person is not None:
        errors["person"] = [_("Choose the caller or record a new person, not both.")]
    if new_person is not None:
        if new_person.phone.strip():
            try:
                normalize_phone(new_person.phone)
            except ValidationError as exc:
                errors["new_phone"] = exc.messages
        if new_person.email.strip():
            try:
                normalize_email_address(new_person.email)
            except ValidationError as exc:
                errors["new_email"] = exc.messages
    if errors.keys() & {"channel", "person"}:
        raise ValidationError(errors)
    external_id = _external_id(submission_key)
    with transaction.atomic():
        if new_person is not None and not errors.keys() & {"new_phone", "new_email"}:
            try:
                person = person_create(
                    last_name=new_person.last_name,
                    first_name=new_person.first_name,
                    national_id=new_person.national_id,
                    phones=[new_person.phone],
                    emails=[new_person.email],
                    actor=actor,
                )
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    errors[f"new_{key}" if key != "contacts" else "new_phone"] = messages
        elif new_person is not None:
            # Still show the name and CNP problems together with the contact ones.
            if not new_person.last_name.strip():
                errors["new_last_name"] = [_("The name is required.")]
        if errors:
            raise ValidationError(errors)  # rolls back a person recorded above
        return case_create(
            channel=channel,
            category=category.strip(),
            title=title,
            description=description,
            requester=person,
            latitude=latitude,
            longitude=longitude,
            address_text=address_text,
            actor=actor,
            handler=Handler.STAFF,
            interaction_summary=_summary(description or title, call_id),
            external_id=external_id,
        )


def intake_attach(
    *,
    channel: str,
    case_id: int,
    actor: AbstractBaseUser,
    summary: str,
    person: Person | None = None,
    call_id: str = "",
    submission_key: str = "",
) -> Interaction:
    """Attach a call or counter visit to an existing case instead of filing a new one
    (also how a status question is answered): one Interaction on the case and on the
    caller (the case's requester when the caller is not chosen). A repeated submit
    records it once."""
    errors: dict[str, list[str]] = {}
    _check_channel(channel, errors)
    if not (summary or "").strip():
        errors["description"] = [
            _("Say in a few words what the caller asked or was told (in the description).")
        ]
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        errors["case"] = [_("This case does not exist.")]
    if errors:
        raise ValidationError(errors)
    external_id = _external_id(submission_key, f":{case.pk}")
    return interaction_log(
        channel=channel,
        person=person,
        case=case,
        handled_by=actor,
        handler=Handler.STAFF,
        summary=_summary(summary, call_id),
        external_id=external_id,
    )


# --- field crews -------------------------------------------------------------------------------


def field_update(
    *,
    case_id: int,
    actor: AbstractBaseUser,
    status: str = "",
    note: str = "",
    photos: Sequence[File] = (),
) -> Case:
    """A field worker's update of an assigned case: a new status along the allowed
    transitions (or none), a note, and "after" photos. Every photo and the move are
    checked before anything is written; then all is written in one transaction (the
    photos are processed, metadata stripped, by the photo pipeline after commit)."""
    errors: dict[str, list[str]] = {}
    case = selectors.access_field_case(actor, case_id)
    note = (note or "").strip()
    if status and status not in Status.values:
        errors["status"] = [_("Unknown status “%(status)s”.") % {"status": status}]
    elif status and status not in TRANSITIONS[case.status]:
        errors["status"] = [
            _("A case that is “%(old)s” cannot become “%(new)s”.")
            % {"old": Status(case.status).label, "new": Status(status).label}
        ]
    if not status and not note and not photos:
        errors["note"] = [_("Choose a new status, write a note or add a photo.")]
    if len(photos) > MAX_FIELD_PHOTOS:
        errors["photos"] = [_("At most %(n)d photos at a time.") % {"n": MAX_FIELD_PHOTOS}]
    else:
        photo_errors: list[str] = []
        for upload in photos:
            try:
                photo_service.photo_check(upload)
            except ValidationError as exc:
                photo_errors.extend(exc.messages)
        if photo_errors:
            errors["photos"] = photo_errors
    if errors:
        raise ValidationError(errors)
    accepted = []  # stored originals, removed if the update is rolled back (a full disk)
    written = False
    try:
        with transaction.atomic():
            if status:
                case = case_change_status(case_id=case.pk, status=status, actor=actor, text=note)
            elif note:
                case_add_note(case_id=case.pk, text=note, actor=actor)
            for i, upload in enumerate(photos):
                accepted.append(
                    photo_service.photo_accept(
                        case=case, upload=upload, actor=actor, sort_order=100 + i
                    )
                )
            written = True
    except BaseException:
        if not written:  # an error at COMMIT leaves the outcome unknown: keep the files
            photo_service.photo_files_delete(accepted)
        raise
    return case


# --- escalation ----------------------------------------------------------------------------------

DEFAULT_WARN_HOURS = 24
DEFAULT_WARN_FRACTION = 0.2
DEFAULT_MANAGER_AFTER_HOURS = 24
DEFAULT_BATCH = 500


@dataclass
class EscalationRun:
    escalated: list[Escalation] = field(default_factory=list)
    skipped: int = 0  # recorded by a concurrent run a moment earlier


def _warning_window(case: Case, warn: dt.timedelta, fraction: float) -> dt.timedelta:
    """The smaller of the fixed window and the fraction of the case's whole target time,
    so that a 4-hour ticket is not escalated the moment it is filed."""
    target = max(case.due_at - case.registered_at, dt.timedelta(0))
    return min(warn, target * fraction)


def _managers() -> list[AbstractBaseUser]:
    User = get_user_model()
    return list(
        User.objects.filter(groups__name=roles.MANAGER, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .distinct()[:50]
    )


def _department_heads(department_id: int | None) -> list[AbstractBaseUser]:
    if department_id is None:
        return []
    return [
        c.user
        for c in EscalationContact.objects.filter(department_id=department_id, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("pk")[:20]
    ]


def _send(case: Case, level: int, reason: str, emails: list[str]) -> None:
    if not emails:
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[Escalation] %(ref)s: %(reason)s") % {
            "ref": case.reference,
            "reason": EscalationReason(reason).label,
        }
        body = _(
            "Case %(ref)s (%(category)s) %(reason)s.\n"
            "Due: %(due)s\nStatus: %(status)s\nLevel: %(level)s\n\n%(title)s\n"
        ) % {
            "ref": case.reference,
            "category": case.category.name,
            "reason": EscalationReason(reason).label.lower(),
            "due": timezone.localtime(case.due_at).strftime("%Y-%m-%d %H:%M"),
            "status": Status(case.status).label,
            "level": EscalationLevel(level).label,
            "title": case.title,
        }
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, emails)
    except Exception:  # the escalation is recorded; a mail server outage is logged
        logger.exception("Escalation e-mail for %s was not sent", case.reference)


def _escalate(case: Case, level: int, reason: str, recipients: list) -> Escalation | None:
    emails = sorted({u.email for u in recipients if u.email})
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                case=case, level=level, reason=reason, due_at=case.due_at, recipients=emails
            )
            CaseEvent.objects.create(
                case=case,
                kind=EventKind.INTERNAL_NOTE,
                handler=Handler.SYSTEM,
                is_public=False,
                text=_("Escalated to %(level)s (%(reason)s): %(who)s")
                % {
                    "level": EscalationLevel(level).label.lower(),
                    "reason": EscalationReason(reason).label.lower(),
                    "who": ", ".join(emails) or _("nobody to notify"),
                },
                data={"escalation": level, "reason": reason, "recipients": emails},
            )
            transaction.on_commit(partial(_send, case, level, reason, emails), robust=True)
    except IntegrityError:
        return None  # another run recorded this level of this case first
    return escalation


def escalate_cases(
    *,
    now: dt.datetime | None = None,
    warn_hours: float = DEFAULT_WARN_HOURS,
    warn_fraction: float = DEFAULT_WARN_FRACTION,
    manager_after_hours: float = DEFAULT_MANAGER_AFTER_HOURS,
    batch: int = DEFAULT_BATCH,
) -> EscalationRun:
    """Escalate open cases at risk, each level once.

    Level 1, the department head (``EscalationContact``; the managers when the case has no
    department or it has no contact): a case due within the warning window (the smaller of
    ``warn_hours`` and ``warn_fraction`` of its target time) or already past due. Level 2,
    the managers (role "manager"): past due for more than ``manager_after_hours``.
    Cases waiting for the citizen (clock stopped) are skipped. Each escalation is an
    ``Escalation`` row (unique per case and level), an internal note on the case and an
    e-mail after commit: running it twice sends nothing new. At most ``batch`` cases per
    level per run (the rest wait for the next run).
    """
    if warn_hours < 0 or not 0 <= warn_fraction <= 1 or manager_after_hours < 0 or batch < 1:
        raise ValidationError(_("The escalation windows must be positive."))
    now = now or timezone.now()
    run = EscalationRun()
    warn = dt.timedelta(hours=warn_hours)
    managers = _managers()
    heads_cache: dict[int | None, list] = {}
    for case in selectors.escalation_candidates(
        now=now, horizon=warn, level=EscalationLevel.DEPARTMENT_HEAD, limit=batch
    ):
        breached = case.due_at <= now
        if not breached and case.due_at - now > _warning_window(case, warn, warn_fraction):
            continue
        if case.department_id not in heads_cache:
            heads_cache[case.department_id] = _department_heads(case.department_id)
        recipients = heads_cache[case.department_id] or managers
        reason = EscalationReason.BREACHED if breached else EscalationReason.DUE_SOON
        done = _escalate(case, EscalationLevel.DEPARTMENT_HEAD, reason, recipients)
        if done is None:
            run.skipped += 1
        else:
            run.escalated.append(done)
    for case in selectors.escalation_candidates(
        now=now,
        horizon=-dt.timedelta(hours=manager_after_hours),
        level=EscalationLevel.MANAGER,
        limit=batch,
    ):
        done = _escalate(case, EscalationLevel.MANAGER, EscalationReason.BREACHED, managers)
        if done is None:
            run.skipped += 1
        else:
            run.escalated.append(done)
    return run
