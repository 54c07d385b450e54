"""Candidate query changes for the map, measured by ``bench/map.py --variant NAME``.

The benchmark replaces ``cetatea.portal.selectors._filtered`` (the bounding-box queryset
every map query starts from) with one of these before measuring, so a proposed change
can be measured on a copy of the database without editing the application. Indexes
are tried the same way, created on the copy with ``--setup-sql``.

``plan_hint``: SQLite (without STAT4, as Debian and Python ship it) cannot estimate a
range, so with both a latitude range and a ``registered_at`` range it always takes the
bounding-box index, and with a category it takes the category's foreign-key index;
both read hundreds of thousands of rows on a big box or a common category. This
variant writes the conditions the selector does *not* want an index for with a unary
plus (``+latitude``: the same value, but no index can serve it), choosing the plan from
what it knows: a box wider than ``BIG_BOX_DEG`` with a time window reads the
newest-first index; a small box reads the bounding-box index; a category never drives
the plan. PostgreSQL gives the same results and has statistics of its own; there the
hint only removes choices it would not make.
"""

from __future__ import annotations

import datetime as dt

BIG_BOX_DEG = 0.02  # about 1.5 km wide: wider boxes with a time window use the time index


def _plus():
    from django.db.models import FloatField, Func

    class Plus(Func):
        """``+expr``: the same value, but a column wrapped in it cannot use an index."""

        template = "(+%(expressions)s)"

        def __init__(self, expression, output_field=None):
            super().__init__(expression, output_field=output_field or FloatField())

    return Plus


def plan_hint_filtered(bbox, filters, now=None):
    from django.db.models import F, IntegerField
    from django.utils import timezone

    from cetatea.cases.choices import CLOSED_STATUSES, OPEN_STATUSES
    from cetatea.catalog.models import Category
    from cetatea.portal.selectors import AGES, DEFAULT_AGE, public_cases

    plus = _plus()
    min_lon, min_lat, max_lon, max_lat = bbox
    days = AGES.get(filters.age, AGES[DEFAULT_AGE])
    qs = public_cases()
    if days is not None and max_lon - min_lon >= BIG_BOX_DEG:
        qs = qs.alias(map_lat=plus(F("latitude")), map_lon=plus(F("longitude"))).filter(
            map_lat__gte=min_lat,
            map_lat__lte=max_lat,
            map_lon__gte=min_lon,
            map_lon__lte=max_lon,
        )
    else:
        qs = qs.filter(
            latitude__gte=min_lat,
            latitude__lte=max_lat,
            longitude__gte=min_lon,
            longitude__lte=max_lon,
        )
    if filters.categories:
        ids = Category.objects.filter(code__in=filters.categories).values("pk")
        qs = qs.alias(map_category=plus(F("category_id"), IntegerField())).filter(
            map_category__in=ids
        )
    if filters.state == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif filters.state == "closed":
        qs = qs.filter(status__in=CLOSED_STATUSES)
    if days is not None:
        since = (now or timezone.now()) - dt.timedelta(days=days)
        qs = qs.filter(registered_at__gte=since)
    return qs


VARIANTS = {"plan_hint": {"_filtered": plan_hint_filtered}}


def apply(name: str) -> None:
    from cetatea.portal import selectors

    for attribute, replacement in VARIANTS[name].items():
        setattr(selectors, attribute, replacement)
