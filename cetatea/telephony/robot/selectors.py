"""Reads for the staff's phone robot screens: who may use them, a person's PIN and
locks, the call figures over a period and the current locks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils.translation import gettext as _

from cetatea.people.models import Person
from cetatea.telephony.models import RobotCall, RobotLock, RobotPin
from cetatea.telephony.robot.identity import person_identity_hashes

MAX_PERIOD_DAYS = 366
PIN_PERMISSION = "telephony.manage_robot_pin"
KPI_PERMISSION = "telephony.view_robotcall"


def access_robot_pins(user: AbstractBaseUser | AnonymousUser, person_id: int) -> Person:
    """The person whose robot PIN and locks ``user`` may manage; PermissionDenied/Http404."""
    if not user.is_authenticated:
        raise PermissionDenied
    if not user.is_active:
        raise PermissionDenied
    if not user.has_perm(PIN_PERMISSION):
        raise PermissionDenied
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise Http404(_("This person does not exist."))
    return person


def access_robot_kpis(user: AbstractBaseUser | AnonymousUser) -> None:
    """Raise PermissionDenied unless ``user`` may see the robot's figures and locks."""
    if not user.is_authenticated:
        raise PermissionDenied
    if not user.is_active:
        raise PermissionDenied
    if not user.has_perm(KPI_PERMISSION):
        raise PermissionDenied


def pin_version(pin: RobotPin | None) -> str:
    """What the staff form carries to notice that the PIN changed since it was shown."""
    return pin.issued_at.isoformat() if pin is not None else "none"


@dataclass
class IdentityLock:
    label: str
    locked_at: dt.datetime


@dataclass
class PinStatus:
    pin: RobotPin | None
    set_by_citizen: bool  # last set by the citizen on the portal, not issued by staff
    version: str
    locks: list[IdentityLock] = field(default_factory=list)


def robot_pin_status(person: Person) -> PinStatus:
    """Whether ``person`` has a PIN (when and by whom it was set, never the PIN) and which
    of their identities the robot refuses now. Three queries."""
    pin = (
        RobotPin.objects.filter(person=person)
        .select_related("issued_by", "issued_by__citizen_account")
        .first()
    )
    by_citizen = False
    if pin is not None and pin.issued_by is not None:
        by_citizen = hasattr(pin.issued_by, "citizen_account")
    labels = person_identity_hashes(person)
    locks = [
        IdentityLock(labels[h], at)
        for h, at in RobotLock.objects.filter(identity_hash__in=labels, unlocked_at__isnull=True)
        .order_by("locked_at")
        .values_list("identity_hash", "locked_at")
    ]
    return PinStatus(pin=pin, set_by_citizen=by_citizen, version=pin_version(pin), locks=locks)


@dataclass
class RobotFigures:
    """Counts of robot calls; ``day`` is None for the period's total."""

    day: dt.date | None
    calls: int = 0
    identified: int = 0
    self_served: int = 0  # identified and not transferred: no operator needed
    transferred: int = 0
    hangups_unidentified: int = 0  # the caller hung up before being identified


@dataclass
class RobotReport:
    start: dt.date
    end: dt.date
    total: RobotFigures
    days: list[RobotFigures]


# Aliases other than the field names: an aggregate may not shadow a field it filters on.
_FIGURES = {
    "n_calls": Count("id"),
    "n_identified": Count("id", filter=Q(identified=True)),
    "n_self_served": Count("id", filter=Q(identified=True, transferred=False)),
    "n_transferred": Count("id", filter=Q(transferred=True)),
    "n_hangups_unidentified": Count(
        "id", filter=Q(identified=False, transferred=False, outcome="caller_hangup")
    ),
}


def _figures(day: dt.date | None, row: dict) -> RobotFigures:
    return RobotFigures(day, **{name[2:]: row.get(name, 0) for name in _FIGURES})


def robot_report(*, start: dt.date, end: dt.date) -> RobotReport:
    """The robot's call figures for the local days ``start`` to ``end`` (both included),
    in total and per day (every day of the period, zeros included).

    Two aggregate queries over a range of ``robotcall_started_idx``, whatever the number
    of calls; the period is at most ``MAX_PERIOD_DAYS`` (the form refuses longer ones).
    """
    if end < start or (end - start).days >= MAX_PERIOD_DAYS:
        raise ValueError("period out of range")
    zone = ZoneInfo(settings.TIME_ZONE)
    since = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    calls = RobotCall.objects.filter(started_at__gte=since, started_at__lt=until)
    total = _figures(None, calls.aggregate(**_FIGURES))
    per_day = {
        row.pop("day"): row
        for row in calls.annotate(day=TruncDate("started_at", tzinfo=zone))
        .values("day")
        .annotate(**_FIGURES)
        .order_by("day")
    }
    days = []
    day = start
    while day <= end:
        days.append(_figures(day, per_day.get(day, {})))
        day += dt.timedelta(days=1)
    return RobotReport(start=start, end=end, total=total, days=days)


def robot_locks(*, page: int = 1, page_size: int = 25) -> Page:
    """The identities the robot refuses now, the newest lock first."""
    locks = (
        RobotLock.objects.filter(unlocked_at__isnull=True)
        .select_related("person")
        .order_by("-locked_at", "-id")
    )
    return Paginator(locks, page_size).get_page(page)
