"""Who is calling the robot: PINs, identification, and the lock-outs.

Rules (research §6.2-6.3): a PIN of at least 6 digits, kept as a password hash and
compared in constant time; 5 failures for one identity (CNP or taxpayer account) in
24 hours lock the robot for it until staff unlock it; a caller ID with 10 failures in
an hour is refused for the hour (spraying one PIN over many CNPs). The answer to a
failure never says whether the identity exists; a lock e-mails the person, if they
have an address (``notices``). Digits are never logged or stored in
clear: identities and caller IDs are kept as keyed hashes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password, make_password
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.ro import cnp as stdnum_cnp

from cetatea.core import crypto
from cetatea.people.models import Person
from cetatea.revenue.models import TaxpayerAccount
from cetatea.telephony.models import RobotAttempt, RobotLock, RobotPin
from cetatea.telephony.robot import notices
from cetatea.telephony.selectors import phone_e164

PIN_MIN_DIGITS = 6
PIN_MAX_DIGITS = 12
IDENTITY_FAILURES = 5
IDENTITY_WINDOW = dt.timedelta(hours=24)
CALLER_FAILURES = 10
CALLER_WINDOW = dt.timedelta(hours=1)
CNP = "cnp"
ACCOUNT = "account"


class RobotPinHasher(PBKDF2PasswordHasher):
    """PBKDF2 for robot PINs, over a keyed hash of the PIN (a pepper).

    A login password's hash is made slow (a million rounds, about 0.2 s of CPU here) so
    that a stolen table costs years to crack; a PIN of 6 digits would not resist that
    anyway, and 20 callers typing their PIN at once would wait seconds for the CPU. So
    the PIN is first keyed with the national-id lookup key (kept outside the database,
    ``core.crypto``): a stolen table alone cannot be tested at all; and then hashed with
    a salt and fewer rounds (a few milliseconds). Online guessing is what the lock-outs
    stop (5 failures per identity in 24 hours).
    """

    algorithm = "robot_pbkdf2_sha256"
    iterations = 20_000

    def encode(self, password, salt, iterations=None):
        return super().encode(crypto.lookup_hash(f"robot-pin:{password}"), salt, iterations)


PIN_HASHER = RobotPinHasher()


def pin_hash(pin: str) -> str:
    """The stored form of a robot PIN."""
    return make_password(pin, hasher=PIN_HASHER)


def pin_matches(pin: str, encoded: str) -> bool:
    """Whether ``pin`` is the PIN stored as ``encoded`` (constant time).

    PINs stored before the keyed hasher existed (Django's default hasher) still match."""
    if encoded.startswith(f"{PIN_HASHER.algorithm}$"):
        return PIN_HASHER.verify(pin, encoded)
    return check_password(pin, encoded)


# Checked when no PIN exists, so that a wrong identity takes as long as a wrong PIN.
_DUMMY_HASH = pin_hash("robot-no-such-pin")


@dataclass(frozen=True)
class Claim:
    """What the caller typed before the PIN, resolved without telling them anything.

    Serialisable (the HTTP callback keeps it between requests): no digits in it."""

    identity_hash: str
    person_id: int | None


def cnp_is_valid(value: str) -> bool:
    return len(value) == 13 and value.isdigit() and stdnum_cnp.is_valid(value)


def claim(kind: str, value: str) -> Claim:
    """Find the person behind a CNP or taxpayer account number (None when unknown)."""
    if kind == CNP:
        identity_hash = crypto.lookup_hash(value)
        person = (
            Person.objects.filter(national_id_hash=identity_hash, merged_into__isnull=True)
            .only("id")
            .first()
        )
        return Claim(identity_hash, person.id if person else None)
    identity_hash = crypto.lookup_hash(f"account:{value}")
    account = TaxpayerAccount.objects.filter(external_id=value).only("person_id").first()
    return Claim(identity_hash, account.person_id if account else None)


def caller_hash(caller: str) -> str:
    """Anonymous or withheld numbers share no bucket: they get no per-caller limit."""
    caller = (caller or "").strip()
    if not caller or caller.lower() in {"anonymous", "unknown", "restricted"}:
        return ""
    # One number, one bucket, however the PBX writes it (0722..., +40722..., 40722...).
    return crypto.lookup_hash(f"caller:{phone_e164(caller) or caller}")


def is_locked(identity_hash: str) -> bool:
    return RobotLock.objects.filter(identity_hash=identity_hash, unlocked_at__isnull=True).exists()


def caller_blocked(caller_key: str, *, now: dt.datetime | None = None) -> bool:
    if not caller_key:
        return False
    now = now or timezone.now()
    failures = RobotAttempt.objects.filter(
        caller_hash=caller_key, success=False, at__gt=now - CALLER_WINDOW
    ).count()
    return failures >= CALLER_FAILURES


def verify(claimed: Claim, pin: str, *, caller: str, call_id: str = "") -> int | None:
    """The person id when ``pin`` is right for ``claimed`` and nothing is locked.

    Every attempt is recorded; the fifth failure in 24 hours locks the identity."""
    now = timezone.now()
    caller_key = caller_hash(caller)
    pin_row = None
    if claimed.person_id is not None:
        pin_row = RobotPin.objects.filter(person_id=claimed.person_id).first()
    # Always hash once, whatever the outcome, so timing does not tell the cases apart.
    matches = pin_matches(pin, pin_row.pin_hash if pin_row else _DUMMY_HASH)
    ok = (
        matches
        and pin_row is not None
        and PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS
        and not is_locked(claimed.identity_hash)
        and not caller_blocked(caller_key, now=now)
    )
    with transaction.atomic():
        RobotAttempt.objects.create(
            identity_hash=claimed.identity_hash,
            caller_hash=caller_key,
            call_id=call_id[:250],
            success=ok,
            at=now,
        )
        if not ok:
            _maybe_lock(claimed, now)
    return claimed.person_id if ok else None


def _maybe_lock(claimed: Claim, now: dt.datetime) -> None:
    since = now - IDENTITY_WINDOW
    lock = RobotLock.objects.filter(identity_hash=claimed.identity_hash).first()
    if lock is not None and lock.unlocked_at is None:
        return
    if lock is not None and lock.unlocked_at > since:
        since = lock.unlocked_at
    failures = RobotAttempt.objects.filter(
        identity_hash=claimed.identity_hash, success=False, at__gt=since
    ).count()
    if failures < IDENTITY_FAILURES:
        return
    RobotLock.objects.update_or_create(
        identity_hash=claimed.identity_hash,
        defaults={
            "person_id": claimed.person_id,
            "locked_at": now,
            "unlocked_at": None,
            "unlocked_by": None,
        },
    )
    if claimed.person_id is not None:
        # Once per lock (an identity already locked returned above), after the commit;
        # the caller hears nothing different.
        notices.lock_notice_send(person_id=claimed.person_id)


def validate_pin(pin: str) -> None:
    """Raise a ValidationError keyed ``pin`` (shown to staff and citizens) for a bad PIN."""
    if not (pin.isdigit() and PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS):
        raise ValidationError(
            {
                "pin": [
                    _("A PIN has %(min)d to %(max)d digits.")
                    % {"min": PIN_MIN_DIGITS, "max": PIN_MAX_DIGITS}
                ]
            }
        )
    if len(set(pin)) == 1:
        raise ValidationError({"pin": [_("A PIN of one repeated digit is too easy to guess.")]})


def person_identity_hashes(person: Person) -> dict[str, str]:
    """The keyed hash of each identity the robot knows ``person`` by, to a label for staff
    ("CNP", "taxpayer account R-123")."""
    hashes = {
        crypto.lookup_hash(f"account:{a}"): _("taxpayer account %(n)s") % {"n": a}
        for a in person.taxpayer_accounts.values_list("external_id", flat=True)
    }
    if person.national_id_hash:
        hashes[person.national_id_hash] = _("CNP")
    return hashes


def robot_pin_set(*, person: Person, pin: str, actor: AbstractBaseUser | None) -> RobotPin:
    """Issue or reset a person's robot PIN (staff, at the counter); unlocks them too."""
    validate_pin(pin)
    with transaction.atomic():
        row, _created = RobotPin.objects.update_or_create(
            person=person,
            defaults={
                "pin_hash": pin_hash(pin),
                "issued_at": timezone.now(),
                "issued_by": actor,
            },
        )
        robot_unlock(person=person, actor=actor)
    return row


def robot_unlock(*, person: Person, actor: AbstractBaseUser | None) -> int:
    """Lift the robot locks on every identity of ``person``; returns how many."""
    hashes = list(person_identity_hashes(person))
    return RobotLock.objects.filter(identity_hash__in=hashes, unlocked_at__isnull=True).update(
        unlocked_at=timezone.now(), unlocked_by=actor
    )
