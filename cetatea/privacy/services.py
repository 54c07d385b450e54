"""Writes for GDPR work: the audit rows of the privacy pages, and erasure.

What an erasure changes, removes and keeps, and why, is in docs/privacy.md.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from cetatea.cases.models import Case, Interaction
from cetatea.catalog.choices import Regime
from cetatea.core.models import AuditLog
from cetatea.core.text import name_key
from cetatea.people.models import Person
from cetatea.privacy import selectors
from cetatea.privacy.models import Erasure

MIN_REASON = 10


def audit_write(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    person_id: int | None = None,
    object_repr: str = "",
    reason: str = "",
    ip_address: str | None = None,
    details: dict | None = None,
) -> AuditLog:
    """One audit row (the privacy pages' reads and exports are audited like the rest)."""
    return AuditLog.objects.create(
        actor=actor,
        action=action,
        person_id=person_id,
        object_repr=object_repr[:200],
        reason=reason[:300],
        ip_address=ip_address,
        details=details or {},
    )


def erased_name(person_id: int) -> str:
    # Not translated: stored once, read in either language.
    return f"Persoană ștearsă #{person_id}"


def _contacts_of(person: Person) -> tuple[list[str], list[str]]:
    return selectors.person_emails(person), selectors.person_phones(person)


def person_erase(
    *, person_id: int, actor: AbstractBaseUser, reason: str, ip_address: str | None = None
) -> Erasure:
    """Erase (anonymise) a person's personal data, keeping legal records and statistics.

    Refuses with ValidationError, changing nothing, while ``erasure_blockers`` gives a
    reason (an open case or registry entry, money owed, a merged or erased record).
    Irreversible; written to the audit log in the same transaction.
    """
    from cetatea.inbox.models import InboundMessage
    from cetatea.notify.models import Notification, Preference
    from cetatea.portal.models import CitizenAccount, Subscription, Supporter
    from cetatea.revenue.models import PortalTaxAttempt, PortalTaxLink
    from cetatea.telephony.models import Call, RobotCall, RobotLock, RobotPin

    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ValidationError(
            _("Say why the data is erased (at least %(n)d characters).") % {"n": MIN_REASON}
        )
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(pk=person_id).first()
        if person is None:
            raise ValidationError(_("This person does not exist."))
        blockers = selectors.erasure_blockers(person)
        if blockers:
            raise ValidationError(blockers)
        emails, phones = _contacts_of(person)
        counts: dict[str, int] = {}

        # Cases keep category, place and dates (the statistics). A ticket loses the
        # reporter's contact fields. A petition or public-information request is a legal
        # record (the nomenclator keeps petitions permanently, research §3.3): its text and
        # the petitioner's name stay; the e-mail and phone used to reach them go.
        cases = Case.objects.filter(requester=person)
        counts["cases_anonymised"] = cases.filter(regime=Regime.TICKET).update(
            contact_name="", contact_email="", contact_phone="", show_name=False
        )
        counts["cases_kept_as_legal_records"] = cases.exclude(regime=Regime.TICKET).update(
            contact_email="", contact_phone="", show_name=False
        )
        # Operators' notes of contacts (the case holds the record itself).
        counts["interactions_anonymised"] = (
            Interaction.objects.filter(person=person).exclude(summary="").update(summary="")
        )
        # Messages: who they went to (the text stays with the case's history).
        contacts = emails + phones
        counts["notifications_anonymised"] = (
            Notification.objects.filter(case__requester=person, recipient__in=contacts).update(
                recipient=""
            )
            if contacts
            else 0
        )
        counts["inbound_emails_anonymised"] = (
            InboundMessage.objects.filter(from_address__in=emails).update(
                from_address="", from_name="", subject=""
            )
            if emails
            else 0
        )
        counts["subscriptions_removed"] = (
            Subscription.objects.filter(email__in=emails).delete()[0] if emails else 0
        )
        counts["supports_removed"] = (
            Supporter.objects.filter(email__in=emails).delete()[0] if emails else 0
        )
        # Calls stay counted; the numbers go.
        same_caller = Q(person=person) | Q(from_number__in=phones) if phones else Q(person=person)
        calls = Call.objects.filter(same_caller)
        counts["calls_anonymised"] = calls.update(from_number="", to_number="")
        counts["robot_calls_anonymised"] = RobotCall.objects.filter(person=person).update(
            caller_hash="", state={}
        )
        counts["robot_pins_removed"] = RobotPin.objects.filter(person=person).delete()[0]
        counts["robot_locks_removed"] = RobotLock.objects.filter(person=person).delete()[0]
        counts["preferences_removed"] = Preference.objects.filter(person=person).delete()[0]
        # The portal account: the login is disabled and loses its address and name.
        accounts = list(CitizenAccount.objects.filter(person=person).select_related("user"))
        for account in accounts:
            PortalTaxLink.objects.filter(citizen=account).delete()
            PortalTaxAttempt.objects.filter(citizen=account).delete()
            user = account.user
            user.username = f"erased-{user.pk}"
            user.email = ""
            user.first_name = user.last_name = ""
            user.is_active = False
            user.set_unusable_password()
            user.save(
                update_fields=[
                    "username",
                    "email",
                    "first_name",
                    "last_name",
                    "is_active",
                    "password",
                ]
            )
            account.email = f"erased-{account.pk}@invalid.invalid"
            account.save(update_fields=["email"])
        counts["portal_accounts_disabled"] = len(accounts)
        counts["contact_points_removed"] = person.contact_points.all().delete()[0]
        counts["addresses_removed"] = person.addresses.all().delete()[0]
        counts["record_events_removed"] = person.events.all().delete()[0]
        # The person row stays (cases, registry entries and taxes point to it), nameless.
        person.first_name = ""
        person.last_name = erased_name(person.pk)
        person.name_key = name_key(person.last_name)
        person.name_key_rev = person.name_key
        person.national_id_kind = ""
        person.national_id_encrypted = ""
        person.national_id_hash = ""
        person.national_id_masked = ""
        person.notes = ""
        person.save(
            update_fields=[
                "first_name",
                "last_name",
                "name_key",
                "name_key_rev",
                "national_id_kind",
                "national_id_encrypted",
                "national_id_hash",
                "national_id_masked",
                "notes",
                "updated_at",
            ]
        )
        kept = selectors.legal_records(person)
        counts.update({f"kept_{k}": v for k, v in kept.items()})
        erasure = Erasure.objects.create(
            person=person, actor=actor, reason=reason[:300], counts=counts
        )
        audit_write(
            actor=actor,
            action=AuditLog.Action.ERASE,
            person_id=person.pk,
            object_repr=erased_name(person.pk),
            reason=reason,
            ip_address=ip_address,
            details=counts,
        )
    return erasure
