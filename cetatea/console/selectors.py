"""Reads of the staff console: the queue, access to a case, a case's history."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from cetatea.cases.choices import OPEN_STATUSES, EventKind, Status
from cetatea.cases.models import Case, CaseEvent, Interaction, Photo
from cetatea.catalog.models import Department, StaffProfile
from cetatea.console.choices import AssignedFilter, DueFilter, Sort
from cetatea.console.models import CannedResponse, SavedView
from cetatea.core.pagination import TimelinePage, merged_newest_first

DUE_SOON = dt.timedelta(hours=24)

# (field, descending) keys of each sort; the primary key always ends the key so that
# the order is total and a cursor names exactly one row.
SORT_KEYS: dict[str, list[tuple[str, bool]]] = {
    Sort.DUE: [("due_at", False), ("id", False)],
    Sort.REGISTERED: [("registered_at", True), ("id", True)],
    Sort.PRIORITY: [("priority", True), ("due_at", False), ("id", False)],
}


def access_console(user: AbstractBaseUser | AnonymousUser) -> None:
    """PermissionDenied unless ``user`` may look at the case queues."""
    if not user.is_authenticated:
        raise PermissionDenied
    if not user.is_active:
        raise PermissionDenied
    if not user.has_perm("cases.view_case"):
        raise PermissionDenied


def access_case(user: AbstractBaseUser | AnonymousUser, case_id: int) -> Case:
    """The case, if ``user`` may open it in the console; else PermissionDenied/Http404."""
    access_console(user)
    case = (
        Case.objects.select_related(
            "category",
            "department",
            "team",
            "area",
            "operator",
            "assignee",
            "requester",
            "merged_into",
            "category__operator",
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404(_("This case does not exist."))
    return case


def user_department(user: AbstractBaseUser) -> Department | None:
    profile = StaffProfile.objects.filter(user=user).select_related("department").first()
    return profile.department if profile else None


@dataclass
class QueueFilters:
    """Validated filters of a queue (see forms.QueueForm)."""

    department: Department | None = None
    team_ids: list[int] | None = None
    statuses: list[str] = field(default_factory=lambda: sorted(OPEN_STATUSES))
    category_id: int | None = None
    area_id: int | None = None
    channel: str = ""
    due: str = ""
    assigned: str = ""
    sort: str = Sort.DUE


@dataclass
class QueuePage:
    cases: list[Case]
    next_cursor: str = ""


def _encode_cursor(case: Case, keys: list[tuple[str, bool]]) -> str:
    values = []
    for name, _desc in keys:
        value = getattr(case, name)
        values.append(value.isoformat() if isinstance(value, dt.datetime) else value)
    return json.dumps(values, separators=(",", ":"))


def _decode_cursor(cursor: str, keys: list[tuple[str, bool]]) -> list[Any] | None:
    try:
        values = json.loads(cursor)
    except ValueError:
        return None
    if not isinstance(values, list) or len(values) != len(keys):
        return None
    decoded = []
    for (name, _desc), value in zip(keys, values, strict=True):
        if name.endswith("_at"):
            value = parse_datetime(value) if isinstance(value, str) else None
            if value is None:
                return None
        elif not isinstance(value, int) or isinstance(value, bool):
            return None
        decoded.append(value)
    return decoded


def _after(keys: list[tuple[str, bool]], values: list[Any]) -> Q:
    """Rows strictly after the cursor in the order ``keys`` (a keyset condition)."""
    condition = Q(pk__in=[])
    for i, (name, desc) in enumerate(keys):
        step = Q(**{f"{name}__{'lt' if desc else 'gt'}": values[i]})
        for j in range(i):
            step &= Q(**{keys[j][0]: values[j]})
        condition |= step
    return condition


def case_queue(
    *, user: AbstractBaseUser, filters: QueueFilters, cursor: str = "", page_size: int = 25
) -> QueuePage:
    """One page of a queue, keyset-paginated.

    The statuses are read one at a time (each read is a range of the (department,
    status, due_at) or (status, due_at) index, stopped after ``page_size + 1`` rows) and
    merged here, so a page costs the same on the first and the thousandth page and
    whatever the number of cases in the table.
    """
    keys = SORT_KEYS[filters.sort]
    after = _decode_cursor(cursor, keys) if cursor else None
    now = timezone.now()
    base = Case.objects.all()
    if filters.department is not None:
        base = base.filter(department=filters.department)
    if filters.team_ids is not None:
        base = base.filter(team_id__in=filters.team_ids)
    if filters.category_id:
        base = base.filter(category_id=filters.category_id)
    if filters.area_id:
        base = base.filter(area_id=filters.area_id)
    if filters.channel:
        base = base.filter(channel=filters.channel)
    if filters.due == DueFilter.OVERDUE:
        base = base.filter(due_at__lt=now, paused_since__isnull=True)
    elif filters.due == DueFilter.SOON:
        base = base.filter(due_at__gte=now, due_at__lt=now + DUE_SOON, paused_since__isnull=True)
    if filters.assigned == AssignedFilter.ME:
        base = base.filter(assignee=user)
    elif filters.assigned == AssignedFilter.NOBODY:
        base = base.filter(assignee__isnull=True)
    if filters.due:
        statuses = [s for s in filters.statuses if s in OPEN_STATUSES]
    else:
        statuses = list(filters.statuses)
    if after is not None:
        base = base.filter(_after(keys, after))
    order = [f"-{name}" if desc else name for name, desc in keys]
    ids: list[tuple] = []
    for status in statuses:
        rows = base.filter(status=status).order_by(*order).values_list(*[k for k, _d in keys])
        ids += list(rows[: page_size + 1])

    def sort_key(row):
        return tuple(
            (-v.timestamp() if isinstance(v, dt.datetime) else -v) if desc else v
            for v, (_n, desc) in zip(row, keys, strict=True)
        )

    ids.sort(key=sort_key)
    page_ids = [row[-1] for row in ids[:page_size]]
    by_id = Case.objects.select_related(
        "category", "department", "team", "area", "assignee"
    ).in_bulk(page_ids)
    cases = [by_id[i] for i in page_ids if i in by_id]
    next_cursor = _encode_cursor(cases[-1], keys) if len(ids) > page_size and cases else ""
    return QueuePage(cases=cases, next_cursor=next_cursor)


# --- the case page ----------------------------------------------------------------------


_HISTORY = (
    ("event", 2, "created_at", lambda c: CaseEvent.objects.filter(case=c).select_related("actor")),
    (
        "interaction",
        1,
        "occurred_at",
        lambda c: Interaction.objects.filter(case=c).select_related("handled_by"),
    ),
)


def case_history(case: Case, *, cursor: str = "", page_size: int = 25) -> TimelinePage:
    """Events and interactions of a case, newest first, keyset-paginated."""
    return merged_newest_first(_HISTORY, case, cursor=cursor, page_size=page_size)


def history_department_names(history: TimelinePage) -> dict[str, str]:
    """Names of the departments the page's "forwarded" events name, by code (one query,
    none when the page has no such event)."""
    codes = set()
    for item in history.items:
        if item.kind == "event" and item.obj.kind == EventKind.FORWARDED:
            codes.update(c for c in (item.obj.data.get("from"), item.obj.data.get("to")) if c)
    if not codes:
        return {}
    return {d.code: d.name for d in Department.objects.filter(code__in=codes)}


def case_version(case: Case) -> str:
    """The version a form carries: the case's last change and its latest event."""
    last_event = (
        CaseEvent.objects.filter(case=case).order_by("-id").values_list("id", flat=True).first()
    )
    return f"{case.updated_at.isoformat()}|{last_event or 0}"


def case_photos(case: Case, *, limit: int = 24) -> list[Photo]:
    """Every photo of the case for staff (the public sees only the public, processed ones)."""
    return list(Photo.objects.filter(case=case).order_by("sort_order", "id")[:limit])


def canned_responses(case: Case) -> list[CannedResponse]:
    return list(
        CannedResponse.objects.filter(
            Q(category=case.category_id) | Q(category__isnull=True), is_active=True
        )[:50]
    )


def saved_views(user: AbstractBaseUser) -> list[SavedView]:
    return list(SavedView.objects.filter(user=user)[:50])


def transitions_for(case: Case) -> list[tuple[str, str]]:
    from cetatea.cases.choices import TRANSITIONS

    allowed = TRANSITIONS[case.status]
    return [(s.value, s.label) for s in Status if s in allowed]
