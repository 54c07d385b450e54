"""Writes for the call centre: the generic CTI events (newCall, answer, hangup).

The PBX may repeat an event (a retry after a timeout) or send them out of order; each
event is idempotent and never moves a call backwards, and a hang-up is logged as one
Interaction (keyed by the call id) on the caller's record.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.cases.choices import Channel, Handler
from cetatea.cases.services import interaction_log
from cetatea.core.models import AuditLog
from cetatea.people.models import Person
from cetatea.telephony.choices import HANGUP_CAUSES, CallDirection, CallState, CtiEvent
from cetatea.telephony.models import Call, CallOffer
from cetatea.telephony.selectors import (
    caller_lookup,
    phone_e164,
    robot_handoff_for,
    staff_user_id_for,
)

logger = logging.getLogger(__name__)

MAX_AGENTS = 20


class UnknownCallError(ValidationError):
    """An answer or hang-up for a call id this system never saw start."""


def _clean(value: str, limit: int) -> str:
    return (value or "").strip()[:limit]


def cti_event(
    *,
    event: str,
    call_id: str,
    from_number: str = "",
    to_number: str = "",
    direction: str = CallDirection.INBOUND,
    users: Sequence[str] = (),
    queue: str = "",
    cause: str = "",
    answering_number: str = "",
    robot_call_id: str = "",
    at: dt.datetime | None = None,
) -> Call:
    """Apply one CTI event from the PBX and return the call.

    ``ValidationError`` keyed by the CTI field name when the event is malformed;
    ``UnknownCallError`` for an answer or hang-up of a call that never started. Nothing
    is written in either case.
    """
    errors: dict[str, list[str]] = {}
    if event not in CtiEvent.values:
        errors["event"] = [
            _("Unknown event “%(event)s”; expected newCall, answer or hangup.")
            % {"event": event[:40]}
        ]
    call_id = (call_id or "").strip()
    if not call_id:
        errors["callId"] = [_("The call id is missing.")]
    elif len(call_id) > 250:
        errors["callId"] = [_("The call id is longer than 250 characters.")]
    if event == CtiEvent.NEW_CALL and direction not in CallDirection.values:
        errors["direction"] = [_("The direction is “in” or “out”.")]
    if len(users) > MAX_AGENTS:
        errors["user"] = [_("At most %(n)d users per call.") % {"n": MAX_AGENTS}]
    if errors:
        raise ValidationError(errors)
    at = at or timezone.now()
    if event == CtiEvent.NEW_CALL:
        return call_start(
            call_id=call_id,
            from_number=from_number,
            to_number=to_number,
            direction=direction,
            users=users,
            queue=queue,
            robot_call_id=robot_call_id,
            at=at,
        )
    if event == CtiEvent.ANSWER:
        return call_answer(call_id=call_id, users=users, answering_number=answering_number, at=at)
    return call_hangup(call_id=call_id, cause=cause, answering_number=answering_number, at=at)


def call_start(
    *,
    call_id: str,
    from_number: str,
    to_number: str,
    direction: str,
    users: Sequence[str] = (),
    queue: str = "",
    robot_call_id: str = "",
    at: dt.datetime,
    adopt_robot_call: bool = True,
) -> Call:
    """Record a new call and find the caller by number; a repeated newCall changes nothing.

    The unique call id, not a read before the write, tells a repeat: the hot path is one
    lookup and one insert. A caller the phone robot hands over (``robot_call_id``, or the
    same number just transferred by the robot) is the person whose PIN the robot
    verified, not a guess from the number.
    """
    from_e164 = phone_e164(from_number)
    to_e164 = phone_e164(to_number)
    citizen_number = from_e164 if direction == CallDirection.INBOUND else to_e164
    robot = None
    if direction == CallDirection.INBOUND and adopt_robot_call:
        robot = robot_handoff_for(
            number=from_e164 or from_number, robot_call_id=_clean(robot_call_id, 250), at=at
        )
    if robot is not None and robot.identified and robot.person_id is not None:
        person_id, matches = robot.person_id, 1
    else:
        person_id, matches = caller_lookup(citizen_number)
    agents = [_clean(u, 200) for u in users if u and u.strip()]
    staff_ids = {i for i in (staff_user_id_for(name) for name in agents) if i is not None}
    try:
        with transaction.atomic():
            call = Call.objects.create(
                call_id=call_id,
                direction=direction,
                from_number=from_e164 or _clean(from_number, 40),
                to_number=to_e164 or _clean(to_number, 40),
                queue=_clean(queue, 100),
                started_at=at,
                person_id=person_id,
                caller_matches=matches,
                agents=agents,
                robot_call=robot,
            )
            CallOffer.objects.bulk_create(
                [CallOffer(call=call, user_id=i, started_at=at) for i in sorted(staff_ids)]
            )
    except IntegrityError:
        existing = Call.objects.filter(call_id=call_id).first()
        if existing is not None:  # the same newCall, twice at once: the first one won
            return existing
        if robot is None:
            raise
        # Another call took the robot's hand-off first: this one is an ordinary call.
        return call_start(
            call_id=call_id,
            from_number=from_number,
            to_number=to_number,
            direction=direction,
            users=users,
            queue=queue,
            at=at,
            adopt_robot_call=False,
        )
    return call


def _locked(call_id: str) -> Call:
    call = Call.objects.select_for_update().filter(call_id=call_id).first()
    if call is None:
        logger.warning("CTI event for an unknown call id %r", call_id[:80])
        raise UnknownCallError(
            {"callId": [_("No call with this id has started (no newCall event was received).")]},
        )
    return call


def call_answer(
    *, call_id: str, users: Sequence[str] = (), answering_number: str = "", at: dt.datetime
) -> Call:
    """Mark the call answered, by the staff member the PBX names. Repeats change nothing."""
    answerer_id = staff_user_id_for(answering_number)
    if answerer_id is None:
        named = {i for i in (staff_user_id_for(_clean(n, 200)) for n in users) if i is not None}
        answerer_id = named.pop() if len(named) == 1 else None
    with transaction.atomic():
        call = _locked(call_id)
        if call.state != CallState.RINGING:
            return call
        call.state = CallState.ANSWERED
        call.answered_at = at
        call.answered_by_id = answerer_id or call.answered_by_id
        call.save(update_fields=["state", "answered_at", "answered_by", "updated_at"])
    return call


def call_hangup(
    *, call_id: str, cause: str = "", answering_number: str = "", at: dt.datetime
) -> Call:
    """End the call and log it once as a phone Interaction on the caller's record.

    When nobody was found by caller ID at the start, the number is looked up again: the
    operator may have recorded the caller as a new person during the call.
    """
    with transaction.atomic():
        call = _locked(call_id)
        if call.state == CallState.ENDED:
            return call
        if call.answered_by_id is None and answering_number and call.answered_at:
            call.answered_by_id = staff_user_id_for(answering_number)
        call.state = CallState.ENDED
        call.ended_at = max(at, call.started_at)
        call.cause = _clean(cause, 40)
        talked = (call.ended_at - call.answered_at).total_seconds() if call.answered_at else 0
        call.duration_seconds = max(0, round(talked))
        if call.person_id is None:
            call.person_id, call.caller_matches = caller_lookup(phone_e164(call.caller_number))
        if call.person_id is not None:
            call.interaction = interaction_log(
                channel=Channel.PHONE,
                person=call.person,
                direction=call.direction,
                handler=Handler.STAFF,
                handled_by=call.answered_by,
                occurred_at=call.started_at,
                duration_seconds=call.duration_seconds,
                summary=_call_summary(call),
                external_id=call.call_id,
            )
        call.save(
            update_fields=[
                "state",
                "ended_at",
                "cause",
                "duration_seconds",
                "person",
                "caller_matches",
                "answered_by",
                "interaction",
                "updated_at",
            ]
        )
    return call


def _call_summary(call: Call) -> str:
    parts = []
    if call.answered_at is None:
        parts.append(_("Missed call"))
    if call.cause and call.cause != "normalClearing":
        parts.append(str(HANGUP_CAUSES.get(call.cause, call.cause)))
    if call.queue:
        parts.append(_("queue %(queue)s") % {"queue": call.queue})
    return " · ".join(parts)


def caller_record_shown(
    *, actor: AbstractBaseUser, person: Person, call: Call, ip_address: str | None = None
) -> None:
    """Audit that the call screen showed a caller's record to ``actor``."""
    AuditLog.objects.create(
        actor=actor,
        action=AuditLog.Action.VIEW_PERSON,
        person_id=person.pk,
        object_repr=str(person)[:200],
        ip_address=ip_address,
        details={"call": call.call_id[:250], "screen": "call"},
    )
