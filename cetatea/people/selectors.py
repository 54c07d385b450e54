"""Reads on persons: access checks, citizen search, the 360° timeline."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils.translation import gettext as _

from cetatea.cases.models import Case, CaseEvent, Interaction
from cetatea.core import crypto
from cetatea.core.identifiers import (
    normalize_email_address,
    normalize_phone,
    parse_national_id,
)
from cetatea.core.pagination import TimelinePage, merged_newest_first
from cetatea.core.text import fold, prefix_upper_bound
from cetatea.people.choices import ContactKind
from cetatea.people.models import ContactPoint, Person, PersonEvent

MAX_SEARCH_PAGES = 40  # past that, refine the query: no list grows without bound


def access_person(user: AbstractBaseUser | AnonymousUser, person_id: int) -> Person:
    """The person, if ``user`` may open their 360° view; else PermissionDenied/Http404."""
    if not user.is_authenticated:
        raise PermissionDenied
    if not user.is_active:
        raise PermissionDenied
    if not user.has_perm("people.view_person_360"):
        raise PermissionDenied
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise Http404(_("This person does not exist."))
    return person


@dataclass
class SearchResult:
    mode: str  # "name", "phone", "email", "national_id", "empty"
    persons: list[Person] = field(default_factory=list)
    page: int = 1
    has_next: bool = False
    error: str = ""


_ID_OR_PHONE = re.compile(r"^[+\d][\d\s().\-/]*$")


def _with_contacts(qs):
    return qs.prefetch_related(
        Prefetch("contact_points", queryset=ContactPoint.objects.order_by("-is_primary", "id"))
    )


def _persons_by_ids(ids: list[int]) -> list[Person]:
    by_id = {p.pk: p for p in _with_contacts(Person.objects.filter(pk__in=ids))}
    return [by_id[i] for i in ids if i in by_id]


def _by_contact(kind: str, value: str) -> list[int]:
    return list(
        ContactPoint.objects.filter(
            kind=kind, value=value, person__merged_into__isnull=True
        ).values_list("person_id", flat=True)[:50]
    )


def _by_national_id(raw: str) -> list[int] | None:
    try:
        nid = parse_national_id(raw)
    except ValidationError:
        return None
    return list(
        Person.objects.active()
        .filter(national_id_hash=crypto.lookup_hash(nid.value))
        .values_list("pk", flat=True)[:5]
    )


def _name_ids(key: str, limit: int) -> list[int]:
    """Persons whose "last first" key, then whose "first last" key, starts with ``key``.

    Two index range scans; no query looks at more rows than the page asks for.
    """
    upper = prefix_upper_bound(key)
    direct = list(
        Person.objects.active()
        .filter(name_key__gte=key, name_key__lt=upper)
        .order_by("name_key", "id")
        .values_list("pk", flat=True)[:limit]
    )
    if len(direct) >= limit:
        return direct
    reverse = list(
        Person.objects.active()
        .filter(name_key_rev__gte=key, name_key_rev__lt=upper)
        .exclude(Q(name_key__gte=key) & Q(name_key__lt=upper))
        .order_by("name_key_rev", "id")
        .values_list("pk", flat=True)[: limit - len(direct)]
    )
    return direct + reverse


def person_search(query: str, *, page: int = 1, page_size: int = 25) -> SearchResult:
    """Find persons by name (diacritics ignored), phone, e-mail or exact national id."""
    query = (query or "").strip()
    page = max(1, min(page, MAX_SEARCH_PAGES))
    if not query:
        return SearchResult(mode="empty")
    if "@" in query:
        try:
            email = normalize_email_address(query)
        except ValidationError as exc:
            return SearchResult(mode="email", error=exc.messages[0])
        return SearchResult(mode="email", persons=_persons_by_ids(_by_contact("email", email)))
    if _ID_OR_PHONE.match(query):
        digits = re.sub(r"\D", "", query)
        ids: list[int] = []
        mode = ""
        if not query.startswith("+") and len(digits) in (13, *range(2, 11)):
            found = _by_national_id(digits)
            if found is not None:
                ids, mode = found, "national_id"
        try:
            phone = normalize_phone(query)
        except ValidationError:
            phone = ""
        if phone:
            ids += [i for i in _by_contact(ContactKind.PHONE, phone) if i not in ids]
            mode = mode or "phone"
        if not mode:
            return SearchResult(
                mode="phone",
                error=_("“%(q)s” is neither a valid phone number nor a valid CNP or CUI.")
                % {"q": query},
            )
        return SearchResult(mode=mode, persons=_persons_by_ids(ids))
    key = fold(query)
    if not key:
        return SearchResult(mode="name", error=_("Type at least one letter of the name."))
    offset = (page - 1) * page_size
    ids = _name_ids(key, offset + page_size + 1)
    return SearchResult(
        mode="name",
        persons=_persons_by_ids(ids[offset : offset + page_size]),
        page=page,
        has_next=len(ids) > offset + page_size and page < MAX_SEARCH_PAGES,
    )


def person_open_cases(person: Person, *, limit: int = 20) -> list[Case]:
    return list(
        Case.objects.filter(requester=person)
        .open()
        .select_related("category", "department")
        .order_by("due_at", "id")[:limit]
    )


# --- Timeline ---------------------------------------------------------------------------


# (kind, rank, time field, queryset factory)
_SOURCES = (
    (
        "interaction",
        3,
        "occurred_at",
        lambda p: Interaction.objects.filter(person=p).select_related("case", "handled_by"),
    ),
    (
        "case_event",
        2,
        "created_at",
        lambda p: CaseEvent.objects.filter(case__requester=p).select_related("case", "actor"),
    ),
    (
        "person_event",
        1,
        "created_at",
        lambda p: PersonEvent.objects.filter(person=p).select_related("actor"),
    ),
)


def person_timeline(person: Person, *, cursor: str = "", page_size: int = 25) -> TimelinePage:
    """Interactions, case events and record events of a person, newest first (keyset
    pages: at most ``page_size + 1`` rows per source, whatever the size of the history)."""
    return merged_newest_first(_SOURCES, person, cursor=cursor, page_size=page_size)
