"""Newest-first pages merged from several tables, with a keyset cursor.

A 360° timeline or a case's history shows rows of several models in one list. Each page
reads at most ``page_size + 1`` rows per source, whatever the size of the history; the
cursor is the last item's (time, source rank, id), so a page never skips or repeats a
row when new ones arrive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

# (kind, rank, time field, queryset factory taking the owner)
Source = tuple[str, int, str, Callable[[Any], QuerySet]]


@dataclass(frozen=True)
class TimelineItem:
    kind: str
    at: dt.datetime
    obj: Any
    rank: int

    @property
    def cursor(self) -> str:
        return f"{self.at.isoformat()}|{self.rank}|{self.obj.pk}"


@dataclass
class TimelinePage:
    items: list[TimelineItem] = field(default_factory=list)
    next_cursor: str = ""


def parse_cursor(cursor: str) -> tuple[dt.datetime, int, int] | None:
    try:
        at_s, rank_s, id_s = cursor.split("|")
        at = parse_datetime(at_s)
        return (at, int(rank_s), int(id_s)) if at is not None else None
    except (ValueError, AttributeError):
        return None


def merged_newest_first(
    sources: Sequence[Source], owner, *, cursor: str = "", page_size: int = 25
) -> TimelinePage:
    """One page of the rows of every source for ``owner``, newest first."""
    after = parse_cursor(cursor) if cursor else None
    items: list[TimelineItem] = []
    for kind, rank, time_field, factory in sources:
        qs = factory(owner)
        if after is not None:
            at, c_rank, c_id = after
            older = Q(**{f"{time_field}__lt": at})
            if rank < c_rank:
                older |= Q(**{time_field: at})
            elif rank == c_rank:
                older |= Q(**{time_field: at, "pk__lt": c_id})
            qs = qs.filter(older)
        rows = qs.order_by(f"-{time_field}", "-pk")[: page_size + 1]
        items += [TimelineItem(kind, getattr(r, time_field), r, rank) for r in rows]
    items.sort(key=lambda i: (i.at, i.rank, i.obj.pk), reverse=True)
    page = items[:page_size]
    return TimelinePage(items=page, next_cursor=page[-1].cursor if len(items) > page_size else "")
