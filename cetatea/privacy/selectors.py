"""Reads for GDPR work: the audit log viewer, everything about one person (the data
subject's export), and what stops an erasure.

``person_data`` is the one place that knows every model holding personal data linked to
a person; the export (JSON and PDF) and the erasure's tests read it. It yields sections
one row at a time (``QuerySet.iterator``), so a person with 10,000 cases is exported in
bounded memory; the events, photos and attachments of the cases are read in case order
beside the cases (one query each, merged), not one query per case.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.cases.models import Attachment, Case, CaseEvent, Interaction, Photo
from cetatea.catalog.choices import Regime
from cetatea.core import crypto
from cetatea.core.models import AuditLog
from cetatea.people.choices import ContactKind
from cetatea.people.models import Person

SCHEMA = "cetatea.person-export"
SCHEMA_VERSION = 1
CHUNK = 500

# --- access ------------------------------------------------------------------------------


def _staff(user: AbstractBaseUser | AnonymousUser, perm: str) -> None:
    if not user.is_authenticated:
        raise PermissionDenied
    if not user.is_active:
        raise PermissionDenied
    if not user.has_perm(perm):
        raise PermissionDenied


def access_audit_log(user: AbstractBaseUser | AnonymousUser) -> None:
    """PermissionDenied unless ``user`` may read the audit log."""
    _staff(user, "core.view_auditlog")


def _person(person_id: int) -> Person:
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise Http404(_("This person does not exist."))
    return person


def access_person_privacy(user: AbstractBaseUser | AnonymousUser, person_id: int) -> Person:
    """The person, if ``user`` may export or erase their data; else PermissionDenied/404."""
    if not user.is_authenticated:
        raise PermissionDenied
    if not user.is_active:
        raise PermissionDenied
    if not (user.has_perm("privacy.export_person_data") or user.has_perm("privacy.erase_person")):
        raise PermissionDenied
    return _person(person_id)


def access_person_export(user: AbstractBaseUser | AnonymousUser, person_id: int) -> Person:
    """The person, if ``user`` may export all of their data; else PermissionDenied/Http404."""
    _staff(user, "privacy.export_person_data")
    return _person(person_id)


def access_person_erase(user: AbstractBaseUser | AnonymousUser, person_id: int) -> Person:
    """The person, if ``user`` may erase their data; else PermissionDenied/Http404."""
    _staff(user, "privacy.erase_person")
    return _person(person_id)


def person_erasure(person: Person):
    """The person's erasure record, or None (the person's data was not erased)."""
    from cetatea.privacy.models import Erasure

    return Erasure.objects.filter(person=person).first()


# --- the audit log viewer ----------------------------------------------------------------


@dataclass
class AuditFilters:
    person_id: int | None = None
    actor_id: int | None = None
    action: str = ""
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive


@dataclass
class AuditPage:
    rows: list[AuditLog] = field(default_factory=list)
    next_cursor: str = ""


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_queryset(filters: AuditFilters):
    """The audit rows matching ``filters``, newest first.

    Each filter has an index that starts with its column and goes on with the time
    (person, staff member, action; the time alone), so a page reads the rows it shows.
    """
    qs = AuditLog.objects.all()
    if filters.person_id is not None:
        qs = qs.filter(person_id=filters.person_id)
    if filters.actor_id is not None:
        qs = qs.filter(actor_id=filters.actor_id)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.since is not None:
        qs = qs.filter(created_at__gte=_day_start(filters.since))
    if filters.until is not None:
        qs = qs.filter(created_at__lt=_day_start(filters.until + dt.timedelta(days=1)))
    return qs.order_by("-created_at", "-id")


def _parse_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    try:
        at_s, id_s = cursor.split("|")
        at = dt.datetime.fromisoformat(at_s)
        return (at, int(id_s)) if timezone.is_aware(at) else None
    except ValueError:
        return None


def audit_search(filters: AuditFilters, *, cursor: str = "", page_size: int = 25) -> AuditPage:
    """One page of the audit log (keyset: the cursor is the last row's time and id)."""
    qs = audit_queryset(filters).select_related("actor")
    after = _parse_cursor(cursor) if cursor else None
    if after is not None:
        at, pk = after
        qs = qs.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=pk))
    rows = list(qs[: page_size + 1])
    page = AuditPage(rows=rows[:page_size])
    if len(rows) > page_size:
        last = page.rows[-1]
        page.next_cursor = f"{last.created_at.isoformat()}|{last.pk}"
    return page


def staff_choices() -> list[tuple[int, str]]:
    """Staff accounts for the "staff member" filter (staff are hundreds, not millions)."""
    User = get_user_model()
    users = User.objects.filter(Q(is_staff=True) | Q(groups__isnull=False)).distinct()
    return [(u.pk, u.get_full_name() or u.get_username()) for u in users.order_by("username")]


# --- everything about a person -----------------------------------------------------------


@dataclass
class Section:
    """One part of the export: a key, a title and its rows (read lazily)."""

    key: str
    title: str
    rows: Iterable[dict[str, Any]]


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return (
            timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        )
    return value.isoformat()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def person_emails(person: Person) -> list[str]:
    """The person's e-mail addresses: contact points and portal accounts."""
    emails = set(
        person.contact_points.filter(kind=ContactKind.EMAIL).values_list("value", flat=True)
    )
    emails.update(person.accounts.values_list("email", flat=True))
    return sorted(e.lower() for e in emails if e)


def person_phones(person: Person) -> list[str]:
    return sorted(
        person.contact_points.filter(kind=ContactKind.PHONE).values_list("value", flat=True)
    )


def _identity(person: Person) -> Iterator[dict]:
    national_id = (
        crypto.decrypt(person.national_id_encrypted) if person.national_id_encrypted else ""
    )
    erasure = person_erasure(person)
    yield {
        "id": person.pk,
        "kind": person.kind,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "national_id_kind": person.national_id_kind,
        "national_id": national_id,
        "notes": person.notes,
        "created_at": _iso(person.created_at),
        "updated_at": _iso(person.updated_at),
        "merged_into": person.merged_into_id,
        "erased_at": _iso(erasure.erased_at) if erasure else None,
    }


def _contact_points(person: Person) -> Iterator[dict]:
    for c in person.contact_points.order_by("id"):
        yield {
            "kind": c.kind,
            "value": c.value,
            "label": c.label,
            "primary": c.is_primary,
            "created_at": _iso(c.created_at),
        }


def _addresses(person: Person) -> Iterator[dict]:
    for a in person.addresses.order_by("id"):
        yield {
            "kind": a.kind,
            "street": a.street,
            "number": a.number,
            "details": a.details,
            "locality": a.locality,
            "county": a.county,
            "postal_code": a.postal_code,
        }


def _record_events(person: Person) -> Iterator[dict]:
    for e in person.events.order_by("created_at", "id"):
        yield {"kind": e.kind, "text": e.text, "at": _iso(e.created_at)}


def _consents(person: Person) -> Iterator[dict]:
    """What the person agreed to: the language of messages, confirmed e-mail alerts."""
    from cetatea.notify.models import Preference
    from cetatea.portal.models import Subscription

    pref = Preference.objects.filter(person=person).first()
    if pref is not None:
        yield {"kind": "notification_language", "value": pref.language, "at": None}
    emails = person_emails(person)
    if emails:
        subs = Subscription.objects.filter(email__in=emails).order_by("id")
        for s in subs.iterator(chunk_size=CHUNK):
            yield {
                "kind": f"alerts_{s.kind}",
                "value": s.email,
                "case": s.case_id,
                "area": s.area_id,
                "latitude": s.latitude,
                "longitude": s.longitude,
                "radius_m": s.radius_m,
                "confirmed_at": _iso(s.confirmed_at),
                "at": _iso(s.created_at),
            }


def _grouped(qs, key: str) -> Iterator[tuple[int, list]]:
    """(key, rows) of a queryset ordered by ``key``, one group at a time."""
    for k, rows in itertools.groupby(qs.iterator(chunk_size=CHUNK), key=lambda r: getattr(r, key)):
        yield k, list(rows)


def _beside(groups: Iterator[tuple[int, list]]) -> Callable[[int], list]:
    """A reader of ``groups`` for increasing keys (a merge join with the cases)."""
    state: dict[str, Any] = {"current": next(groups, None)}

    def take(key: int) -> list:
        while state["current"] is not None and state["current"][0] < key:
            state["current"] = next(groups, None)
        if state["current"] is not None and state["current"][0] == key:
            rows = state["current"][1]
            state["current"] = next(groups, None)
            return rows
        return []

    return take


def _cases(person: Person) -> Iterator[dict]:
    cases = Case.objects.filter(requester=person).select_related("category", "department", "area")
    events = _beside(
        _grouped(
            CaseEvent.objects.filter(case__requester=person).order_by(
                "case_id", "created_at", "id"
            ),
            "case_id",
        )
    )
    photos = _beside(
        _grouped(Photo.objects.filter(case__requester=person).order_by("case_id", "id"), "case_id")
    )
    files = _beside(
        _grouped(
            Attachment.objects.filter(case__requester=person).order_by("case_id", "id"), "case_id"
        )
    )
    for c in cases.order_by("id").iterator(chunk_size=CHUNK):
        yield {
            "reference": c.reference,
            "channel": c.channel,
            "category": c.category.code,
            "department": c.department.code if c.department_id else None,
            "area": c.area.code if c.area_id else None,
            "regime": c.regime,
            "title": c.title,
            "description": c.description,
            "address": c.address_text,
            "latitude": c.latitude,
            "longitude": c.longitude,
            "contact_name": c.contact_name,
            "contact_email": c.contact_email,
            "contact_phone": c.contact_phone,
            "status": c.status,
            "registered_at": _iso(c.registered_at),
            "due_at": _iso(c.due_at),
            "closed_at": _iso(c.closed_at),
            "publication": c.publication,
            "show_name": c.show_name,
            "answers": c.answers,
            "events": [
                {
                    "kind": e.kind,
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                    "text": e.text,
                    "public": e.is_public,
                    "at": _iso(e.created_at),
                }
                for e in events(c.pk)
            ],
            "photos": [
                {
                    "file": p.original_name or p.original.name,
                    "public": p.is_public,
                    "at": _iso(p.created_at),
                }
                for p in photos(c.pk)
            ],
            "attachments": [
                {
                    "file": a.original_name,
                    "type": a.content_type,
                    "size": a.size,
                    "at": _iso(a.created_at),
                }
                for a in files(c.pk)
            ],
        }


def _interactions(person: Person) -> Iterator[dict]:
    qs = (
        Interaction.objects.filter(person=person)
        .select_related("case")
        .order_by("occurred_at", "id")
    )
    for i in qs.iterator(chunk_size=CHUNK):
        yield {
            "channel": i.channel,
            "direction": i.direction,
            "case": i.case.reference if i.case_id else None,
            "summary": i.summary,
            "duration_seconds": i.duration_seconds,
            "at": _iso(i.occurred_at),
        }


def _registry_entries(person: Person) -> Iterator[dict]:
    from cetatea.registry.models import Entry

    qs = (
        Entry.objects.filter(person=person)
        .select_related("book", "doc_type")
        .order_by("registered_at", "id")
    )
    for e in qs.iterator(chunk_size=CHUNK):
        yield {
            "number": e.number,
            "book": str(e.book),
            "registered_at": _iso(e.registered_at),
            "direction": e.direction,
            "document_type": str(e.doc_type),
            "channel": e.channel,
            "sender": e.sender_name,
            "sender_address": e.sender_address,
            "sender_email": e.sender_email,
            "sender_phone": e.sender_phone,
            "summary": e.summary,
            "status": e.status,
            "due_date": _iso(e.due_date),
            "dispatched_at": _iso(e.dispatched_at),
            "resolution": e.resolution,
        }


def _tax_accounts(person: Person) -> Iterator[dict]:
    from cetatea.revenue.balance import account_balance
    from cetatea.revenue.models import TaxpayerAccount

    for account in TaxpayerAccount.objects.filter(person=person).order_by("id"):
        balance = account_balance(account)
        yield {
            "account": account.external_id,
            "kind": account.kind,
            "name": account.name,
            "address": account.address,
            "on": _iso(balance.today),
            "taxes_overdue": _money(balance.overdue_principal),
            "late_charges": _money(balance.late_charges),
            "fines_due": _money(balance.fines_due),
            "due_today": _money(balance.due_today),
            "upcoming": _money(balance.upcoming),
            "total": _money(balance.total),
            "credit": _money(balance.credit),
            "taxes": [
                {
                    "tax": ob.obligation.tax_type,
                    "year": ob.obligation.fiscal_year,
                    "subject": ob.obligation.subject,
                    "amount": _money(ob.obligation.amount),
                    "outstanding": _money(ob.outstanding),
                }
                for ob in balance.obligations
            ],
            "fines": [
                {
                    "record": f"{f.fine.series} {f.fine.number}".strip(),
                    "issued_on": _iso(f.fine.issued_on),
                    "issuer": f.fine.issuer,
                    "amount": _money(f.fine.amount),
                    "outstanding": _money(f.outstanding),
                }
                for f in balance.fines
            ],
        }


def _calls(person: Person) -> Iterator[dict]:
    from cetatea.telephony.models import Call

    for c in (
        Call.objects.filter(person=person).order_by("started_at", "id").iterator(chunk_size=CHUNK)
    ):
        yield {
            "direction": c.direction,
            "from": c.from_number,
            "to": c.to_number,
            "queue": c.queue,
            "started_at": _iso(c.started_at),
            "answered_at": _iso(c.answered_at),
            "duration_seconds": c.duration_seconds,
        }


def _robot(person: Person) -> Iterator[dict]:
    from cetatea.telephony.models import RobotCall, RobotLock, RobotPin

    pin = RobotPin.objects.filter(person=person).first()
    if pin is not None:  # the PIN itself is not known: only its hash is stored
        yield {"kind": "pin", "issued_at": _iso(pin.issued_at)}
    for lock in RobotLock.objects.filter(person=person).order_by("id"):
        yield {
            "kind": "lock",
            "locked_at": _iso(lock.locked_at),
            "unlocked_at": _iso(lock.unlocked_at),
        }
    qs = RobotCall.objects.filter(person=person).order_by("started_at", "id")
    for rc in qs.iterator(chunk_size=CHUNK):
        yield {
            "kind": "call",
            "started_at": _iso(rc.started_at),
            "duration_seconds": rc.duration_seconds,
            "language": rc.language,
            "options": rc.options,
            "outcome": rc.outcome,
        }


def _portal(person: Person) -> Iterator[dict]:
    from cetatea.portal.models import CitizenAccount

    for a in CitizenAccount.objects.filter(person=person).select_related("user").order_by("id"):
        yield {
            "email": a.email,
            "created_at": _iso(a.created_at),
            "last_login": _iso(a.user.last_login),
            "active": a.user.is_active,
        }


def _messages(person: Person) -> Iterator[dict]:
    """Messages the city sent about the person's cases, and e-mails received from them."""
    from cetatea.inbox.models import InboundMessage
    from cetatea.notify.models import Notification

    qs = (
        Notification.objects.filter(case__requester=person)
        .select_related("case")
        .order_by("created_at", "id")
    )
    for n in qs.iterator(chunk_size=CHUNK):
        yield {
            "direction": "out",
            "channel": n.channel,
            "to": n.recipient,
            "case": n.case.reference,
            "subject": n.subject,
            "text": n.body,
            "status": n.status,
            "at": _iso(n.sent_at or n.created_at),
        }
    emails = person_emails(person)
    if emails:
        inbound = InboundMessage.objects.filter(from_address__in=emails).order_by(
            "received_at", "id"
        )
        for m in inbound.iterator(chunk_size=CHUNK):
            yield {
                "direction": "in",
                "channel": "email",
                "from": m.from_address,
                "subject": m.subject,
                "outcome": m.outcome,
                "at": _iso(m.received_at),
            }


def _supporting(person: Person) -> Iterator[dict]:
    from cetatea.portal.models import Supporter

    emails = person_emails(person)
    if emails:
        qs = Supporter.objects.filter(email__in=emails).select_related("case").order_by("id")
        for s in qs.iterator(chunk_size=CHUNK):
            yield {"email": s.email, "case": s.case.reference, "at": _iso(s.created_at)}


def _audit(person: Person) -> Iterator[dict]:
    """Who in the city's staff saw or changed the person's data (GDPR art. 15(1)(c))."""
    qs = (
        AuditLog.objects.filter(person_id=person.pk)
        .select_related("actor")
        .order_by("created_at", "id")
    )
    for row in qs.iterator(chunk_size=CHUNK):
        yield {
            "action": row.action,
            "staff": row.actor.get_full_name() or row.actor.get_username()
            if row.actor_id
            else None,
            "reason": row.reason,
            "at": _iso(row.created_at),
        }


def person_data(person: Person) -> list[Section]:
    """Every section of the data subject's export, each read when iterated."""
    sections = [
        ("identity", _("Identity"), _identity),
        ("contact_points", _("Contact points"), _contact_points),
        ("addresses", _("Addresses"), _addresses),
        ("consents", _("Consents and preferences"), _consents),
        ("record_history", _("History of the record"), _record_events),
        ("cases", _("Cases"), _cases),
        ("interactions", _("Contacts with the city"), _interactions),
        ("registry_entries", _("Registry entries"), _registry_entries),
        ("tax_accounts", _("Taxes and fines"), _tax_accounts),
        ("calls", _("Phone calls"), _calls),
        ("phone_robot", _("Phone robot"), _robot),
        ("portal_accounts", _("Portal accounts"), _portal),
        ("supported_cases", _("Cases supported (“me too”)"), _supporting),
        ("messages", _("Messages"), _messages),
        ("audit", _("Who accessed the data"), _audit),
    ]
    return [Section(key, title, _Lazy(fn, person)) for key, title, fn in sections]


class _Lazy:
    """An iterable that runs ``fn(person)`` each time it is iterated."""

    def __init__(self, fn, person):
        self.fn, self.person = fn, person

    def __iter__(self):
        return self.fn(self.person)


# --- what stops an erasure ---------------------------------------------------------------


def erasure_blockers(person: Person) -> list[str]:
    """Why the person's data cannot be erased now (empty: it can).

    A legal obligation keeps the data while it runs (GDPR art. 17(3)(b)): an open case or
    registry entry is still owed an answer, and money owed to the city is still collected.
    """
    from cetatea.registry.choices import EntryStatus
    from cetatea.registry.models import Entry
    from cetatea.revenue.balance import account_balance
    from cetatea.revenue.models import TaxpayerAccount

    reasons = []
    if person.merged_into_id:
        reasons.append(_("This record was merged into another; erase that one."))
    if person_erasure(person) is not None:
        reasons.append(_("This person's data was already erased."))
    open_cases = Case.objects.filter(requester=person).open().count()
    if open_cases:
        reasons.append(_("%(n)d open case(s): the city still owes an answer.") % {"n": open_cases})
    open_entries = Entry.objects.filter(person=person, status=EntryStatus.OPEN).count()
    if open_entries:
        reasons.append(
            _("%(n)d open registry entry(ies): the city still owes an answer.")
            % {"n": open_entries}
        )
    for account in TaxpayerAccount.objects.filter(person=person):
        balance = account_balance(account)
        owed = balance.due_today + balance.upcoming
        if owed > 0:
            reasons.append(
                _("Taxpayer account %(account)s owes %(amount)s lei.")
                % {"account": account.external_id, "amount": f"{owed:.2f}"}
            )
    return reasons


def legal_records(person: Person) -> dict[str, int]:
    """The person's rows kept unchanged by an erasure, as legal records."""
    from cetatea.registry.models import Entry
    from cetatea.revenue.models import TaxpayerAccount

    return {
        "registry_entries": Entry.objects.filter(person=person).count(),
        "petitions": Case.objects.filter(requester=person).exclude(regime=Regime.TICKET).count(),
        "tax_accounts": TaxpayerAccount.objects.filter(person=person).count(),
    }
