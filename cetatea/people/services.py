"""Writes on persons: create, add contact points, reveal a national id, merge duplicates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from cetatea.core import crypto
from cetatea.core.identifiers import (
    normalize_email_address,
    normalize_phone,
    parse_national_id,
)
from cetatea.core.models import AuditLog
from cetatea.core.text import name_key
from cetatea.people.choices import AddressKind, ContactKind, PersonEventKind, PersonKind
from cetatea.people.models import Address, ContactPoint, Person, PersonEvent


@dataclass(frozen=True)
class AddressData:
    street: str
    number: str = ""
    details: str = ""
    locality: str = "Alba Iulia"
    county: str = "Alba"
    postal_code: str = ""
    kind: str = AddressKind.DOMICILE


NATIONAL_ID_FIELDS = [
    "national_id_kind",
    "national_id_encrypted",
    "national_id_hash",
    "national_id_masked",
]


def _set_name_keys(person: Person) -> None:
    person.name_key = name_key(person.last_name, person.first_name)
    person.name_key_rev = name_key(person.first_name, person.last_name)


def _set_national_id(person: Person, raw: str, kind: str | None) -> None:
    nid = parse_national_id(raw, kind=kind)
    person.national_id_kind = nid.kind
    person.national_id_encrypted = crypto.encrypt(nid.value)
    person.national_id_hash = crypto.lookup_hash(nid.value)
    person.national_id_masked = crypto.mask(nid.value)


def _normalized(values: Iterable[str], normalize) -> tuple[list[str], list[str]]:
    """Normalised distinct values (blank ones skipped) and the error messages."""
    result: list[str] = []
    errors: list[str] = []
    for raw in values:
        if not (raw and raw.strip()):
            continue
        try:
            value = normalize(raw)
        except ValidationError as exc:
            errors.extend(exc.messages)
        else:
            if value not in result:
                result.append(value)
    return result, errors


def _normalized_contacts(
    phones: Iterable[str], emails: Iterable[str]
) -> tuple[list[str], list[str], list[str]]:
    norm_phones, phone_errors = _normalized(phones, normalize_phone)
    norm_emails, email_errors = _normalized(emails, normalize_email_address)
    return norm_phones, norm_emails, phone_errors + email_errors


def person_create(
    *,
    last_name: str,
    first_name: str = "",
    kind: str = PersonKind.INDIVIDUAL,
    national_id: str = "",
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
    addresses: Iterable[AddressData] = (),
    notes: str = "",
    actor: AbstractBaseUser | None = None,
) -> Person:
    """Create a person with validated, normalised identity and contact points.

    Everything is checked before anything is written: a wrong CNP check digit, a
    malformed phone or a national id that already belongs to someone raises
    ``ValidationError`` (field -> messages) and the database is unchanged.
    """
    errors: dict[str, list[str]] = {}
    last_name = (last_name or "").strip()
    first_name = (first_name or "").strip()
    if not last_name:
        errors["last_name"] = [_("The name is required.")]
    if kind not in PersonKind.values:
        errors["kind"] = [_("Unknown kind of person.")]
    person = Person(kind=kind, first_name=first_name, last_name=last_name, notes=notes)
    _set_name_keys(person)
    if national_id and national_id.strip():
        id_kind = "cnp" if kind == PersonKind.INDIVIDUAL else "cui"
        try:
            _set_national_id(person, national_id, id_kind)
        except ValidationError as exc:
            errors["national_id"] = exc.messages
        else:
            if Person.objects.active().filter(national_id_hash=person.national_id_hash).exists():
                errors["national_id"] = [_("A person with this national id is already recorded.")]
    phones_n, emails_n, contact_errors = _normalized_contacts(phones, emails)
    if contact_errors:
        errors["contacts"] = contact_errors
    if errors:
        raise ValidationError(errors)

    try:
        with transaction.atomic():
            person.save()
            ContactPoint.objects.bulk_create(
                [
                    ContactPoint(person=person, kind=ContactKind.PHONE, value=v, is_primary=i == 0)
                    for i, v in enumerate(phones_n)
                ]
                + [
                    ContactPoint(person=person, kind=ContactKind.EMAIL, value=v, is_primary=i == 0)
                    for i, v in enumerate(emails_n)
                ]
            )
            Address.objects.bulk_create(
                [
                    Address(
                        person=person,
                        kind=a.kind,
                        street=a.street,
                        number=a.number,
                        details=a.details,
                        locality=a.locality,
                        county=a.county,
                        postal_code=a.postal_code,
                    )
                    for a in addresses
                ]
            )
            PersonEvent.objects.create(person=person, kind=PersonEventKind.CREATED, actor=actor)
    except IntegrityError as exc:  # another clerk recorded the same national id just now
        raise ValidationError(
            {"national_id": [_("A person with this national id is already recorded.")]}
        ) from exc
    return person


def person_add_contact(*, person: Person, kind: str, value: str) -> ContactPoint:
    """Add a phone or e-mail to a person (normalised; adding it twice is a no-op)."""
    if kind == ContactKind.PHONE:
        value = normalize_phone(value)
    elif kind == ContactKind.EMAIL:
        value = normalize_email_address(value)
    else:
        raise ValidationError(_("Unknown kind of contact."))
    contact, _created = ContactPoint.objects.get_or_create(person=person, kind=kind, value=value)
    return contact


def person_reveal_national_id(
    *, person_id: int, actor: AbstractBaseUser, reason: str = "", ip_address: str | None = None
) -> str:
    """Decrypt a person's national id for a staff member and write the audit row.

    The audit row is written before the value is returned, in the same transaction: a
    reveal that was not recorded never happens.
    """
    if not actor.has_perm("people.reveal_national_id"):
        raise PermissionError(_("You are not allowed to reveal national ids."))
    person = Person.objects.get(pk=person_id)
    if not person.national_id_encrypted:
        raise ValidationError(_("This person has no national id on record."))
    with transaction.atomic():
        AuditLog.objects.create(
            actor=actor,
            action=AuditLog.Action.REVEAL_NATIONAL_ID,
            person_id=person.pk,
            object_repr=str(person)[:200],
            reason=reason[:300],
            ip_address=ip_address,
        )
        return crypto.decrypt(person.national_id_encrypted)


def _lock_pair(a_id: int, b_id: int) -> dict[int, Person]:
    # Lock in id order so that two clerks merging the same pair cannot deadlock.
    rows = Person.objects.select_for_update().filter(pk__in=sorted([a_id, b_id])).order_by("pk")
    return {p.pk: p for p in rows}


def _person_foreign_keys() -> list[models.ForeignKey]:
    """Every foreign key in the project that points at Person (except merged_into).

    Found from the model registry so that apps added later (registry, revenue,
    telephony) move their rows on merge without touching this code.
    """
    fks = []
    for rel in Person._meta.related_objects:
        if rel.remote_field is Person._meta.get_field("merged_into").remote_field:
            continue
        if rel.one_to_many and isinstance(rel.field, models.ForeignKey):
            fks.append(rel.field)
    return fks


def person_merge(
    *, survivor_id: int, duplicate_id: int, actor: AbstractBaseUser, reason: str = ""
) -> Person:
    """Merge ``duplicate`` into ``survivor``: everything attached moves, nothing is lost.

    The duplicate stays as a tombstone pointing at the survivor (so old links still
    resolve). Refused with a clear message when the two are the same, when either was
    already merged (e.g. by another clerk a moment ago), or when both carry different
    national ids.
    """
    if survivor_id == duplicate_id:
        raise ValidationError(_("A person cannot be merged with itself."))
    with transaction.atomic():
        locked = _lock_pair(survivor_id, duplicate_id)
        if len(locked) != 2:
            raise ValidationError(_("One of the two persons does not exist."))
        survivor, duplicate = locked[survivor_id], locked[duplicate_id]
        if survivor.merged_into_id or duplicate.merged_into_id:
            raise ValidationError(
                _("One of the two persons has already been merged; reload the page."),
                code="already_merged",
            )
        if (
            survivor.national_id_hash
            and duplicate.national_id_hash
            and survivor.national_id_hash != duplicate.national_id_hash
        ):
            raise ValidationError(
                _("The two persons have different national ids; they are not the same person.")
            )

        moved: dict[str, int] = {}
        # Contact points: keep one copy of each value.
        existing = set(survivor.contact_points.values_list("kind", "value"))
        for contact in duplicate.contact_points.all():
            if (contact.kind, contact.value) in existing:
                contact.delete()
            else:
                contact.person = survivor
                contact.is_primary = False
                contact.save(update_fields=["person", "is_primary"])
                moved["contact_points"] = moved.get("contact_points", 0) + 1
        for field in _person_foreign_keys():
            if field.model is ContactPoint:
                continue
            count = field.model._base_manager.filter(**{field.name: duplicate}).update(
                **{field.name: survivor}
            )
            if count:
                moved[field.model._meta.label_lower] = count

        if duplicate.national_id_hash and not survivor.national_id_hash:
            for attr in NATIONAL_ID_FIELDS:
                setattr(survivor, attr, getattr(duplicate, attr))
                setattr(duplicate, attr, "")
            # Free the unique hash on the tombstone before the survivor takes it.
            duplicate.save(update_fields=NATIONAL_ID_FIELDS)
            survivor.save(update_fields=[*NATIONAL_ID_FIELDS, "updated_at"])
        if not survivor.first_name and duplicate.first_name:
            survivor.first_name = duplicate.first_name
            _set_name_keys(survivor)
            survivor.save(update_fields=["first_name", "name_key", "name_key_rev", "updated_at"])

        duplicate.merged_into = survivor
        duplicate.save(update_fields=["merged_into", "updated_at"])
        PersonEvent.objects.create(
            person=survivor,
            kind=PersonEventKind.MERGED,
            actor=actor,
            text=reason,
            data={"duplicate_id": duplicate.pk, "duplicate_name": str(duplicate), "moved": moved},
        )
        AuditLog.objects.create(
            actor=actor,
            action=AuditLog.Action.MERGE_PERSONS,
            person_id=survivor.pk,
            object_repr=f"{duplicate} -> {survivor}"[:200],
            reason=reason[:300],
            details={"duplicate_id": duplicate.pk, "moved": moved},
        )
    return survivor
