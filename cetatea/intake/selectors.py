"""Reads for the operator's intake form and the field crews."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.utils.translation import gettext as _

from cetatea.cases.choices import OPEN_STATUSES, TRANSITIONS, Status
from cetatea.cases.models import Case, CaseEvent
from cetatea.catalog.models import Category
from cetatea.intake.models import Escalation
from cetatea.people.models import Person
from cetatea.portal.selectors import around_filter, distance_m, nearby_open_cases

NEARBY_LIMIT = 5
FIELD_PAGE_SIZE = 15  # small pages for a phone on a slow connection
FIELD_MAX_PAGES = 100


# --- intake ------------------------------------------------------------------------------


def intake_categories():
    """Every active category, grouped by the department or outside operator that handles
    it, as option groups (the operator may file categories the public map does not show)."""
    groups: dict[str, list] = {}
    for cat in (
        Category.objects.filter(is_active=True)
        .select_related("department", "operator")
        .order_by("sort_order", "name_ro")
    ):
        owner = cat.department or cat.operator
        groups.setdefault(str(owner) if owner else _("Other"), []).append((cat.code, cat.name))
    return [("", _("— choose —"))] + sorted(groups.items())


def nearby_for_intake(
    *, category: Category, latitude: float, longitude: float
) -> list[tuple[Case, int]]:
    """Open cases of the category near the point, nearest first: the public ones from the
    map's index, plus the not-public ones (phone, counter, e-mail) of the same department
    read through the department queue index, which holds only its open cases."""
    found = {
        case.pk: (case, d)
        for case, d in nearby_open_cases(
            category=category, latitude=latitude, longitude=longitude, limit=NEARBY_LIMIT
        )
    }
    if category.department_id:
        radius = category.duplicate_radius_m
        candidates = (
            Case.objects.filter(
                department_id=category.department_id,
                status__in=OPEN_STATUSES,
                category_id=category.pk,
                **around_filter(latitude, longitude, radius),
            )
            .exclude(publication="public")
            .order_by("-registered_at")[:200]
        )
        for case in candidates:
            d = round(distance_m(latitude, longitude, case.latitude, case.longitude))
            if d <= radius and case.pk not in found:
                found[case.pk] = (case, d)
    return sorted(found.values(), key=lambda pair: pair[1])[:NEARBY_LIMIT]


def person_for_intake(person_id) -> Person | None:
    """The chosen caller (their survivor record if they were merged), or None."""
    try:
        person = Person.objects.filter(pk=int(person_id)).first()
    except (TypeError, ValueError):
        return None
    seen = 0
    while person is not None and person.merged_into_id and seen < 10:
        person = person.merged_into
        seen += 1
    return person


def person_open_cases(person: Person, *, limit: int = 10) -> list[Case]:
    """The caller's own open cases, soonest due first (read by the requester index)."""
    return list(
        Case.objects.filter(requester=person, status__in=OPEN_STATUSES)
        .select_related("category")
        .order_by("due_at", "id")[:limit]
    )


# --- field crews ---------------------------------------------------------------------------


def _require_field_user(user: AbstractBaseUser | AnonymousUser) -> None:
    if not user.is_authenticated:
        raise PermissionDenied
    if not user.is_active:
        raise PermissionDenied
    if not user.has_perm("cases.change_case"):
        raise PermissionDenied


@dataclass
class FieldPage:
    cases: list[Case]
    page: int
    has_next: bool


def field_assignments(user: AbstractBaseUser, *, page: int = 1) -> FieldPage:
    """The open cases assigned to ``user``, soonest due first, one small page at a time."""
    _require_field_user(user)
    page = max(1, min(page, FIELD_MAX_PAGES))
    offset = (page - 1) * FIELD_PAGE_SIZE
    rows = list(
        Case.objects.filter(assignee=user, status__in=OPEN_STATUSES)
        .select_related("category", "area")
        .order_by("due_at", "id")[offset : offset + FIELD_PAGE_SIZE + 1]
    )
    return FieldPage(
        cases=rows[:FIELD_PAGE_SIZE],
        page=page,
        has_next=len(rows) > FIELD_PAGE_SIZE and page < FIELD_MAX_PAGES,
    )


def access_field_case(user: AbstractBaseUser | AnonymousUser, case_id: int) -> Case:
    """A case the field worker may open and update: one assigned to them."""
    _require_field_user(user)
    case = Case.objects.select_related("category", "area").filter(pk=case_id).first()
    if case is None:
        raise Http404(_("This case does not exist."))
    if case.assignee_id != user.pk:
        raise PermissionDenied
    return case


def allowed_statuses(case: Case) -> list[tuple[str, str]]:
    """The statuses the case may move to, in the order of the status list."""
    allowed = TRANSITIONS[case.status]
    return [(s.value, s.label) for s in Status if s in allowed]


def recent_events(case: Case, *, limit: int = 10) -> list[CaseEvent]:
    return list(case.events.select_related("actor").order_by("-created_at", "-id")[:limit])


# --- escalation ------------------------------------------------------------------------------


def escalation_candidates(*, now: dt.datetime, horizon: dt.timedelta, level: int, limit: int):
    """Open, running (not paused) cases due before ``now + horizon`` that were not yet
    escalated at ``level``; read through the (status, due time) index."""
    already = Escalation.objects.filter(case_id=OuterRef("pk"), level=level)
    return list(
        Case.objects.filter(
            status__in=OPEN_STATUSES,
            due_at__lte=now + horizon,
            paused_since__isnull=True,
            merged_into__isnull=True,
        )
        .exclude(Exists(already))
        .select_related("department", "category")
        .order_by("due_at", "id")[:limit]
    )
