"""Writes of the staff's and the citizen's PIN screens, each with its audit row.

- ``robot_pin_issue``: staff at the counter issue or reset a PIN (typed, or generated
  and shown once); it unlocks the person's identities too (``identity.robot_pin_set``).
- ``robot_pin_change``: the citizen changes their PIN on the portal, knowing the current
  one. It unlocks nothing: only staff, who see the person's identity card, unlock.
- ``robot_person_unlock``: staff lift the locks without changing the PIN.

A staff form carries the version of the PIN it showed (``selectors.pin_version``); a
second submit of the same form (a double click, the back button) finds another version
and is refused, so two PINs are never issued without the clerk knowing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.core.models import AuditLog
from cetatea.people.models import Person
from cetatea.telephony.models import RobotLock, RobotPin
from cetatea.telephony.robot import identity
from cetatea.telephony.robot.selectors import PIN_PERMISSION, pin_version


def generate_pin(length: int = identity.PIN_MIN_DIGITS) -> str:
    """A random PIN that ``identity.validate_pin`` accepts (not one repeated digit)."""
    while True:
        pin = "".join(secrets.choice("0123456789") for _ in range(length))
        if len(set(pin)) > 1:
            return pin


def _open_locks(person: Person) -> int:
    return RobotLock.objects.filter(
        identity_hash__in=list(identity.person_identity_hashes(person)), unlocked_at__isnull=True
    ).count()


def _check_staff(actor: AbstractBaseUser) -> None:
    if not (actor.is_active and actor.has_perm(PIN_PERMISSION)):
        raise PermissionError(_("You are not allowed to manage phone robot PINs."))


@dataclass
class IssuedPin:
    pin: RobotPin
    generated: str  # the generated PIN, to show once; "" when staff typed it
    unlocked: int


def robot_pin_issue(
    *,
    person_id: int,
    actor: AbstractBaseUser,
    version: str,
    pin: str = "",
    ip_address: str | None = None,
) -> IssuedPin:
    """Issue (or reset) the PIN of ``person_id``: ``pin`` as typed, or a generated one
    when it is empty. ``version`` is the PIN version the clerk saw; another one is stale."""
    _check_staff(actor)
    generated = "" if pin else generate_pin()
    identity.validate_pin(pin or generated)
    with transaction.atomic():
        # The person's row serialises two clerks (or two submits) on the same PIN.
        person = Person.objects.select_for_update().get(pk=person_id)
        current = RobotPin.objects.filter(person=person).first()
        if pin_version(current) != version:
            raise ValidationError(
                _(
                    "The PIN was changed after this page was opened (maybe the form was "
                    "sent twice). Nothing was changed now: check the PIN status below."
                ),
                code="stale",
            )
        unlocked = _open_locks(person)
        row = identity.robot_pin_set(person=person, pin=pin or generated, actor=actor)
        AuditLog.objects.create(
            actor=actor,
            action=AuditLog.Action.ROBOT_PIN_ISSUED,
            person_id=person.pk,
            object_repr=str(person)[:200],
            ip_address=ip_address,
            details={
                "reset": current is not None,
                "generated": bool(generated),
                "unlocked": unlocked,
            },
        )
    return IssuedPin(pin=row, generated=generated, unlocked=unlocked)


def robot_person_unlock(
    *, person_id: int, actor: AbstractBaseUser, ip_address: str | None = None
) -> int:
    """Lift the robot locks on every identity of ``person_id``; how many were lifted."""
    _check_staff(actor)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person_id)
        unlocked = identity.robot_unlock(person=person, actor=actor)
        if unlocked:
            AuditLog.objects.create(
                actor=actor,
                action=AuditLog.Action.ROBOT_UNLOCKED,
                person_id=person.pk,
                object_repr=str(person)[:200],
                ip_address=ip_address,
                details={"unlocked": unlocked},
            )
    return unlocked


def robot_pin_change(
    *,
    person: Person,
    user: AbstractBaseUser,
    current: str,
    new: str,
    ip_address: str | None = None,
) -> RobotPin:
    """The citizen replaces their PIN, proving they know the current one.

    Raises a ValidationError with code ``no_pin`` (none was issued: only the counter
    issues a first PIN), ``wrong_pin`` (keyed ``current``), or keyed ``pin`` for a weak
    new PIN. Locks stay as they are."""
    identity.validate_pin(new)
    with transaction.atomic():
        row = RobotPin.objects.select_for_update().filter(person=person).first()
        if row is None:
            raise ValidationError(
                _("You have no phone PIN yet. A first PIN is issued at the city hall counter."),
                code="no_pin",
            )
        if not identity.pin_matches(current, row.pin_hash):
            raise ValidationError(
                {"current": [ValidationError(_("The current PIN is wrong."), code="wrong_pin")]}
            )
        if current == new:
            raise ValidationError({"pin": [_("The new PIN is the same as the current one.")]})
        row.pin_hash = identity.pin_hash(new)
        row.issued_at = timezone.now()
        row.issued_by = user
        row.save(update_fields=["pin_hash", "issued_at", "issued_by"])
        AuditLog.objects.create(
            actor=user,
            action=AuditLog.Action.ROBOT_PIN_CHANGED,
            person_id=person.pk,
            object_repr=str(person)[:200],
            ip_address=ip_address,
        )
    return row
