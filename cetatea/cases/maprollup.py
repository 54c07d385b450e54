"""Pre-aggregated map clusters (``MapCell``): counts of public cases per grid cell,
category, month (and all months together) and open/closed.

Every service that changes whether a case is on the public map, or whether it is open,
calls ``track``: the case leaves its old cells and enters its new ones in the same
transaction. ``rebuild`` recomputes everything from the cases (after a bulk import).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from cetatea.cases.choices import OPEN_STATUSES, Publication
from cetatea.cases.models import Case, MapCell

LEVELS = range(5, 13)  # cells of 2^-5 (about 3.5 km) down to 2^-12 degrees (about 25 m)
ALL_TIME = 0  # the ``month`` of the rows that count every month together


def level_for(cell_size: float) -> int:
    return min(max(round(-math.log2(cell_size)), LEVELS.start), LEVELS.stop - 1)


def cell(value: float, level: int) -> int:
    # Truncation, like CAST(x AS INTEGER) in the live query, so both agree.
    return int(value * (2**level))


def month_key(moment) -> int:
    local = timezone.localtime(moment)
    return local.year * 100 + local.month


def _state(case: Case) -> tuple | None:
    """What the case contributes to the map, or None when it is not on it."""
    if case.publication != Publication.PUBLIC or case.latitude is None:
        return None
    return (
        case.category_id,
        case.latitude,
        case.longitude,
        case.status in OPEN_STATUSES,
        month_key(case.registered_at),
    )


def _bump(state: tuple, sign: int) -> None:
    category_id, lat, lon, is_open, month = state
    for level in LEVELS:
        for category_key, bucket in itertools.product((0, category_id), (month, ALL_TIME)):
            key = {
                "level": level,
                "category_key": category_key,
                "month": bucket,
                "cx": cell(lon, level),
                "cy": cell(lat, level),
                "is_open": is_open,
            }
            changes = {
                "n": F("n") + sign,
                "lat_sum": F("lat_sum") + sign * lat,
                "lon_sum": F("lon_sum") + sign * lon,
            }
            if MapCell.objects.filter(**key).update(**changes):
                continue
            try:
                with transaction.atomic():
                    MapCell.objects.create(**key, n=sign, lat_sum=sign * lat, lon_sum=sign * lon)
            except IntegrityError:  # a concurrent writer created the row first
                MapCell.objects.filter(**key).update(**changes)


@contextmanager
def track(case: Case):
    """``with track(case): <change case>`` moves the case's counts if its map state changed.

    Must run inside the transaction that saves the change.
    """
    before = _state(case)
    yield
    after = _state(case)
    if before == after:
        return
    if before is not None:
        _bump(before, -1)
    if after is not None:
        _bump(after, +1)


def add(case: Case) -> None:
    """Count a new case."""
    state = _state(case)
    if state is not None:
        _bump(state, +1)


def rebuild(*, chunk: int = 5000) -> int:
    """Recompute every cell from the cases; returns the number of cells."""
    totals: dict[tuple, list] = defaultdict(lambda: [0, 0.0, 0.0])
    rows = (
        Case.objects.filter(publication=Publication.PUBLIC, latitude__isnull=False)
        .values_list("category_id", "latitude", "longitude", "status", "registered_at")
        .iterator(chunk_size=chunk)
    )
    for category_id, lat, lon, status, registered_at in rows:
        month = month_key(registered_at)
        is_open = status in OPEN_STATUSES
        for level in LEVELS:
            cx, cy = cell(lon, level), cell(lat, level)
            for category_key, bucket in itertools.product((0, category_id), (month, ALL_TIME)):
                t = totals[(level, category_key, bucket, cx, cy, is_open)]
                t[0] += 1
                t[1] += lat
                t[2] += lon
    with transaction.atomic():
        MapCell.objects.all().delete()
        MapCell.objects.bulk_create(
            (
                MapCell(
                    level=k[0],
                    category_key=k[1],
                    month=k[2],
                    cx=k[3],
                    cy=k[4],
                    is_open=k[5],
                    n=v[0],
                    lat_sum=v[1],
                    lon_sum=v[2],
                )
                for k, v in totals.items()
            ),
            batch_size=5000,
        )
    return len(totals)
