"""Reads for the call centre: caller ID, staff for a PBX name, the live screen, the log."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cetatea.cases.models import Case, Interaction
from cetatea.core.identifiers import normalize_phone
from cetatea.people.choices import ContactKind
from cetatea.people.models import ContactPoint, Person
from cetatea.telephony.choices import CallState
from cetatea.telephony.models import Call, RobotCall

# A call the PBX never hung up (a lost event) leaves the live screens after this long.
LIVE_WINDOW = dt.timedelta(hours=4)
QUEUE_LIMIT = 10
CARD_ROWS = 5
# How long after the phone robot hands a caller over their operator call may start.
HANDOFF_WINDOW = dt.timedelta(minutes=2)


def phone_e164(raw: str) -> str:
    """The number in E.164, or "" when it is not a phone number (``anonymous``).

    PBX scripts written for Zammad send international numbers without the ``+``
    (``40722123456``); those are tried with it when the national reading fails.
    """
    raw = (raw or "").strip()
    if not raw or not any(c.isdigit() for c in raw):
        return ""
    candidates = [raw]
    digits = "".join(c for c in raw if c.isdigit())
    if not raw.startswith(("+", "0")) and len(digits) >= 10:
        # Most likely international: tried first, so the common case parses once.
        candidates.insert(0, "+" + digits)
    for candidate in candidates:
        try:
            return normalize_phone(candidate)
        except ValidationError:
            continue
    return ""


def caller_lookup(e164: str) -> tuple[int | None, int]:
    """The id of the active person with this phone number, and how many have it (at most
    5 counted).

    One query, an index range read on ContactPoint (kind, value), whatever the number
    of persons; a person has a number once (``contact_unique_per_person``). Ids, not
    objects: this runs on every ringing phone, and the screen loads the record itself.
    """
    if not e164:
        return None, 0
    ids = list(
        ContactPoint.objects.filter(
            kind=ContactKind.PHONE, value=e164, person__merged_into__isnull=True
        )
        .order_by("person_id")
        .values_list("person_id", flat=True)[:5]
    )
    return (ids[0] if ids else None), len(ids)


def staff_user_id_for(name: str) -> int | None:
    """The id of the active staff account a PBX ``user[]``/``answeringNumber`` names.

    In order of preference: the username, the phone extension of the staff profile,
    then the full name ("First Last"), as Zammad sends the agent's real name. One query.
    """
    name = (name or "").strip()
    if not name:
        return None
    match = Q(username=name) | Q(staff_profile__phone_extension=name)
    if " " in name:
        first, last = name.split(" ", 1)
        match |= Q(first_name__iexact=first, last_name__iexact=last)
    candidates = list(
        get_user_model()
        .objects.filter(match, is_active=True)
        .order_by("pk")
        .values_list("pk", "username", "staff_profile__phone_extension")[:10]
    )

    def rank(row) -> int:
        return 0 if row[1] == name else 1 if row[2] == name else 2

    best = min(candidates, key=rank, default=None)
    return best[0] if best else None


def robot_handoff_for(*, number: str, robot_call_id: str, at: dt.datetime) -> RobotCall | None:
    """The phone robot call an operator's new call continues, if any.

    The PBX names it (``robotCallId``: the robot's call id it was handed, e.g. the
    ``CETATEA_ROBOT_CALL`` channel variable or the ``X-Cetatea-Robot-Call`` header of the
    robot's REFER), or else it is the caller's own transfer from the robot that ended in
    the last two minutes and that no other call took yet.
    """
    from cetatea.telephony.robot.identity import caller_hash

    calls = RobotCall.objects.filter(transferred=True, handoff__isnull=True)
    if robot_call_id:
        recent = at - dt.timedelta(hours=2)
        calls = calls.filter(call_id=robot_call_id[:250], started_at__gte=recent)
    else:
        key = caller_hash(number)
        if not key:
            return None  # a withheld number is matched only by an explicit id
        calls = calls.filter(
            caller_hash=key,
            started_at__gte=at - dt.timedelta(hours=2),
            ended_at__gte=at - HANDOFF_WINDOW,
        )
    return calls.order_by("-started_at").first()


@dataclass
class CallScreen:
    call: Call | None
    queue: list[Call]
    key: str


def call_screen_for(user: AbstractBaseUser, *, now: dt.datetime | None = None) -> CallScreen:
    """What the operator's screen shows now: their own call, and the other ringing calls.

    Their call is the one they answered (still in progress), else the newest ringing call
    offered to them, else the last call they answered (ended). ``key`` changes whenever
    what the screen shows changes, so a poll that finds the same key sends nothing.
    """
    since = (now or timezone.now()) - LIVE_WINDOW
    live = Call.objects.live().filter(started_at__gte=since).select_related("person", "robot_call")
    call = live.filter(state=CallState.ANSWERED, answered_by=user).order_by("-started_at").first()
    if call is None:
        call = (
            live.filter(state=CallState.RINGING, offers__user=user)
            .order_by("-started_at", "-id")
            .first()
        )
    if call is None:
        # After the hang-up the caller's record stays up for the after-call work (a new
        # person half typed in, a case to file) until the next call comes.
        call = (
            Call.objects.filter(answered_by=user, started_at__gte=since)
            .select_related("person", "robot_call")
            .order_by("-started_at", "-id")
            .first()
        )
    ringing = live.filter(state=CallState.RINGING)
    if call is not None:
        ringing = ringing.exclude(pk=call.pk)
    queue = list(ringing.order_by("-started_at", "-id")[:QUEUE_LIMIT])
    parts = [f"{c.pk}:{c.state}:{c.person_id}" for c in ([call] if call else []) + queue]
    key = hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
    return CallScreen(call=call, queue=queue, key=key)


@dataclass
class CallerCard:
    person: Person
    contacts: list[ContactPoint] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)


def caller_card(person: Person) -> CallerCard:
    """The caller's record as the call screen shows it: a few rows of each, newest first."""
    return CallerCard(
        person=person,
        contacts=list(person.contact_points.order_by("-is_primary", "id")[:10]),
        cases=list(
            Case.objects.filter(requester=person)
            .select_related("category")
            .order_by("-registered_at", "-id")[:CARD_ROWS]
        ),
        interactions=list(
            Interaction.objects.filter(person=person)
            .select_related("case", "handled_by")
            .order_by("-occurred_at", "-id")[:CARD_ROWS]
        ),
    )


@dataclass
class CallLogPage:
    calls: list[Call]
    next_cursor: str = ""


def _parse_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    try:
        at_s, id_s = cursor.split("|")
        at = parse_datetime(at_s)
        return (at, int(id_s)) if at is not None else None
    except (ValueError, AttributeError):
        return None


def call_log(
    *, user: AbstractBaseUser | None = None, cursor: str = "", page_size: int = 25
) -> CallLogPage:
    """Calls newest first (only those ``user`` answered, if given), keyset-paginated."""
    qs = Call.objects.select_related("person", "answered_by")
    if user is not None:
        qs = qs.filter(answered_by=user)
    after = _parse_cursor(cursor) if cursor else None
    if after is not None:
        at, pk = after
        qs = qs.filter(Q(started_at__lt=at) | Q(started_at=at, pk__lt=pk))
    rows = list(qs.order_by("-started_at", "-id")[: page_size + 1])
    page = rows[:page_size]
    next_cursor = ""
    if len(rows) > page_size:
        last = page[-1]
        next_cursor = f"{last.started_at.isoformat()}|{last.pk}"
    return CallLogPage(calls=page, next_cursor=next_cursor)
