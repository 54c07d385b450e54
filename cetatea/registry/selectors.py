"""Reading the registry: search for clerks, the deadline watch, one entry with access.

Every list is a keyset page over an index: nothing read grows with the size of a book.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from cetatea.core.text import fold, name_key
from cetatea.core.workdays import local_date
from cetatea.registry.models import Entry
from cetatea.registry.services import parse_number

PAGE_SIZE = 25


@dataclass
class EntryFilters:
    number: str = ""  # "RG-12/2026", or a bare number within the other filters
    sender: str = ""
    text: str = ""  # words of the summary
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    department_id: int | None = None
    point_id: int | None = None
    doc_type_id: int | None = None
    status: str = ""
    direction: str = ""


@dataclass
class EntryPage:
    entries: list[Entry] = field(default_factory=list)
    next_cursor: str = ""


def _cursor(entry: Entry) -> str:
    return json.dumps([entry.registered_at.isoformat(), entry.pk])


def _after(cursor: str) -> Q | None:
    try:
        at_s, pk = json.loads(cursor)
        at = dt.datetime.fromisoformat(at_s)
        pk = int(pk)
    except (ValueError, TypeError):
        return None
    return Q(registered_at__lt=at) | Q(registered_at=at, pk__lt=pk)


def entry_queryset() -> QuerySet[Entry]:
    return Entry.objects.select_related("book__point", "doc_type", "department")


def entry_search(
    filters: EntryFilters, *, cursor: str = "", page_size: int = PAGE_SIZE
) -> EntryPage:
    """Entries matching every filter given, newest first, one page after ``cursor``."""
    qs = entry_queryset()
    number = filters.number.strip()
    if number:
        parsed = parse_number(number)
        if parsed is not None:
            code, n, year = parsed
            qs = qs.filter(book__point__code=code, book__year=year, number=n)
        elif number.isdigit():
            qs = qs.filter(number=int(number))
        else:
            return EntryPage()
    if filters.sender.strip():
        qs = qs.filter(sender_key__startswith=name_key(filters.sender))
    for word in fold(filters.text).split():
        qs = qs.filter(summary_key__contains=word)
    if filters.date_from:
        qs = qs.filter(registered_at__date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(registered_at__date__lte=filters.date_to)
    for name in ("department_id", "point_id", "doc_type_id"):
        value = getattr(filters, name)
        if value:
            key = "book__point_id" if name == "point_id" else name
            qs = qs.filter(**{key: value})
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.direction:
        qs = qs.filter(direction=filters.direction)
    if cursor:
        after = _after(cursor)
        if after is None:
            return EntryPage()
        qs = qs.filter(after)
    rows = list(qs.order_by("-registered_at", "-pk")[: page_size + 1])
    page = rows[:page_size]
    return EntryPage(
        entries=page, next_cursor=_cursor(page[-1]) if len(rows) > page_size and page else ""
    )


def deadline_watch(
    *,
    department_id: int | None = None,
    today: dt.date | None = None,
    soon_days: int = 3,
    limit: int = 50,
) -> dict[str, list[Entry]]:
    """Open entries past their term and those whose term ends within ``soon_days``,
    soonest first (index ``entry_dept_status_due_idx`` / ``entry_status_due_idx``)."""
    from django.utils import timezone

    today = today or local_date(timezone.now())
    qs = entry_queryset().open().filter(due_date__isnull=False)
    if department_id:
        qs = qs.filter(department_id=department_id)
    overdue = list(qs.filter(due_date__lt=today).order_by("due_date", "pk")[:limit])
    soon = list(
        qs.filter(due_date__gte=today, due_date__lte=today + dt.timedelta(days=soon_days)).order_by(
            "due_date", "pk"
        )[:limit]
    )
    return {"overdue": overdue, "soon": soon}
