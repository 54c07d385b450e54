"""Reads for the public map: pins or clusters in a bounding box, nearby similar cases,
a public case page, a citizen's own cases."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cetatea.cases import maprollup
from cetatea.cases.choices import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    EventKind,
    PhotoStatus,
    Publication,
    Status,
)
from cetatea.cases.models import Case, CaseEvent, MapCell, Photo
from cetatea.catalog.models import Area, Category
from cetatea.core.db import IntegerPart, NoIndex, filter_unindexed

EARTH_RADIUS_M = 6_371_000
PIN_PAGE = 100  # at most this many pins per response
CLUSTER_ZOOM = 13  # below this zoom level the map always gets clusters
AGES = {"30": 30, "90": 90, "365": 365, "all": None}
BIG_BOX_DEG = 0.01  # about 770 m wide: wider boxes read the cases newest first
DEFAULT_AGE = "90"


@dataclass(frozen=True)
class MapFilters:
    categories: tuple[str, ...] = ()
    state: str = "all"  # "open", "closed", "all"
    age: str = DEFAULT_AGE


@dataclass
class MapResult:
    kind: str  # "pins" or "clusters"
    pins: list[dict] = field(default_factory=list)
    clusters: list[dict] = field(default_factory=list)
    truncated: bool = False


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    """``min_lon,min_lat,max_lon,max_lat`` (Leaflet's toBBoxString) or ValidationError."""
    try:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in (raw or "").split(","))
    except ValueError as exc:
        raise ValidationError(_("The map area is not valid."), code="bad_bbox") from exc
    if not (
        -180 <= min_lon < max_lon <= 180
        and -90 <= min_lat < max_lat <= 90
        and all(math.isfinite(v) for v in (min_lon, min_lat, max_lon, max_lat))
    ):
        raise ValidationError(_("The map area is not valid."), code="bad_bbox")
    return min_lon, min_lat, max_lon, max_lat


def public_cases():
    return Case.objects.filter(publication=Publication.PUBLIC)


def _drive(bbox) -> str:
    return "box" if bbox[2] - bbox[0] < BIG_BOX_DEG else "time"


def _filtered(
    bbox, filters: MapFilters, now: dt.datetime | None = None, *, drive: str | None = None
):
    """Public cases in the box that pass the filters.

    ``drive`` names the index the query should read: ``"box"`` (the bounding-box index:
    a small box holds few cases whatever the period) or ``"time"`` (newest first: a big
    box holds many, and the first page of pins, or a short period, is a short read of
    the time index). By default a box narrower than ``BIG_BOX_DEG`` is read by box. The
    other conditions are wrapped in ``NoIndex`` so that SQLite, which has no statistics
    to choose with, cannot take an index that reads most of the table (the category's or
    the status's); PostgreSQL chooses by its own statistics.
    """
    min_lon, min_lat, max_lon, max_lat = bbox
    by_box = (drive or _drive(bbox)) == "box"
    lat, lon, registered = F("latitude"), F("longitude"), F("registered_at")
    qs = public_cases().alias(
        map_lat=lat if by_box else NoIndex(lat),
        map_lon=lon if by_box else NoIndex(lon),
        map_registered=NoIndex(registered) if by_box else registered,
        map_category=NoIndex(F("category_id")),
        map_status=NoIndex(F("status")),
    )
    qs = qs.filter(
        map_lat__gte=min_lat,
        map_lat__lte=max_lat,
        map_lon__gte=min_lon,
        map_lon__lte=max_lon,
    )
    if filters.categories:
        ids = Category.objects.filter(code__in=filters.categories).values("pk")
        qs = qs.filter(map_category__in=ids)
    if filters.state == "open":
        qs = qs.filter(map_status__in=OPEN_STATUSES)
    elif filters.state == "closed":
        qs = qs.filter(map_status__in=CLOSED_STATUSES)
    days = AGES.get(filters.age, AGES[DEFAULT_AGE])
    if days is not None:
        since = (now or timezone.now()) - dt.timedelta(days=days)
        qs = qs.filter(map_registered__gte=since)
    return qs


def _cell_size(bbox) -> float:
    """Grid cell in degrees: about 1/12 of the visible width, rounded to a power of 2 so
    the same cells come back while the map pans."""
    width = max(bbox[2] - bbox[0], 1e-6)
    return 2 ** math.floor(math.log2(width / 12))


def map_features(
    bbox: tuple[float, float, float, float], filters: MapFilters, *, zoom: int
) -> MapResult:
    """Pins (at most ``PIN_PAGE``, newest first) or clusters computed in SQL.

    Clusters come back when zoomed out (below ``CLUSTER_ZOOM``) or when the box holds
    more than a page of pins: one GROUP BY over integer grid cells, so a response never
    holds more rows than there are cells on the screen.
    """
    if zoom >= CLUSTER_ZOOM:
        # Whether the box holds at most a page of pins: the first PIN_PAGE + 1 matches in
        # the order of the index read, never sorted (a street holds thousands of cases
        # over the years); newest first is the time index's own order.
        qs = _filtered(bbox, filters)
        qs = qs.order_by() if _drive(bbox) == "box" else qs.order_by("-registered_at", "-id")
        ids = list(qs.values_list("pk", flat=True)[: PIN_PAGE + 1])
        if len(ids) <= PIN_PAGE:
            rows = Case.objects.filter(pk__in=ids).order_by("-registered_at", "-id")
            fields = ["reference", "latitude", "longitude", "title", "status", "registered_at"]
            fields += ["category__code", "category__name_ro", "category__name_en"]
            return MapResult(kind="pins", pins=[_pin(r) for r in rows.values(*fields)])
    level = maprollup.level_for(_cell_size(bbox))
    days = AGES.get(filters.age, AGES[DEFAULT_AGE])
    cells = _rollup_cells(bbox, filters, level, days)
    clusters = [
        {
            "lat": round(c["lat"] / c["n"], 6),
            "lon": round(c["lon"] / c["n"], 6),
            "count": c["n"],
            "open": c["open_n"],
        }
        for c in cells.values()
        if c["n"] > 0
    ]
    return MapResult(kind="clusters", clusters=clusters)


def _live_cells(qs, level: int) -> dict:
    """Group the matching cases by grid cell in SQL (short periods: few rows)."""
    size = 2.0**-level
    rows = (
        qs.annotate(
            cx=IntegerPart(F("longitude") / size),
            cy=IntegerPart(F("latitude") / size),
        )
        .values("cx", "cy")
        .annotate(
            n=Count("id"),
            lat=Sum("latitude"),
            lon=Sum("longitude"),
            open_n=Count("id", filter=Q(status__in=OPEN_STATUSES)),
        )
        .order_by()
    )
    return {(r["cx"], r["cy"]): r for r in rows}


def _rollup_cells(bbox, filters: MapFilters, level: int, days: int | None) -> dict:
    """Clusters from the pre-aggregated cells: whole months (or all time) from
    ``MapCell``, and the period's first, partial month corrected live, so the counts are
    exact: when the period holds less than half of that month, its part is grouped live
    and added; otherwise the whole month is taken and the part before the period is
    grouped live and taken away. The live part is at most half a month of cases."""
    min_lon, min_lat, max_lon, max_lat = bbox
    qs = MapCell.objects.filter(
        level=level,
        cx__gte=maprollup.cell(min_lon, level),
        cx__lte=maprollup.cell(max_lon, level),
        cy__gte=maprollup.cell(min_lat, level),
        cy__lte=maprollup.cell(max_lat, level),
    )
    if filters.categories:
        ids = list(
            Category.objects.filter(code__in=filters.categories).values_list("pk", flat=True)
        )
        qs = qs.filter(category_key__in=ids)
    else:
        qs = qs.filter(category_key=0)
    if filters.state in ("open", "closed"):
        qs = qs.filter(is_open=filters.state == "open")
    edge, sign = {}, 1
    if days is None:
        qs = qs.filter(month=maprollup.ALL_TIME)
    else:
        now = timezone.now()
        start = now - dt.timedelta(days=days)
        month_start = timezone.localtime(start).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
        next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
        everything = MapFilters(filters.categories, filters.state, "all")
        if start == month_start:
            first = month_start
        elif next_month - start <= start - month_start:
            first = next_month
            edge = _live_cells(
                _filtered(bbox, everything, drive="time").filter(
                    registered_at__gte=start, registered_at__lt=next_month
                ),
                level,
            )
        else:
            first, sign = month_start, -1
            edge = _live_cells(
                _filtered(bbox, everything, drive="time").filter(
                    registered_at__gte=month_start, registered_at__lt=start
                ),
                level,
            )
        months, cursor = [], first
        while cursor <= now:  # one index seek per whole month of the period
            months.append(maprollup.month_key(cursor))
            cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
        qs = qs.filter(month__in=months)
    rows = (
        qs.values("cx", "cy")
        .annotate(
            total=Sum("n"),
            lat=Sum("lat_sum"),
            lon=Sum("lon_sum"),
            open_total=Sum("n", filter=Q(is_open=True)),
        )
        .order_by()
    )
    cells = {
        (r["cx"], r["cy"]): {
            "n": r["total"],
            "lat": r["lat"],
            "lon": r["lon"],
            "open_n": r["open_total"] or 0,
        }
        for r in rows
    }
    for key, extra in edge.items():
        cell = cells.setdefault(key, {"n": 0, "lat": 0.0, "lon": 0.0, "open_n": 0})
        for name in ("n", "lat", "lon", "open_n"):
            cell[name] += sign * extra[name]
    return cells


def _pin(row: dict) -> dict:
    english = (get_language() or "ro").startswith("en")
    return {
        "ref": row["reference"],
        "lat": row["latitude"],
        "lon": row["longitude"],
        "title": row["title"],
        "status": row["status"],
        "status_label": str(Status(row["status"]).label),
        "open": row["status"] in OPEN_STATUSES,
        "category": row["category__code"],
        "category_label": (row["category__name_en"] if english else "") or row["category__name_ro"],
        "date": timezone.localtime(row["registered_at"]).date().isoformat(),
    }


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def around_filter(latitude: float, longitude: float, radius_m: float) -> dict:
    """ORM filter of the bounding box around a circle (refine with ``distance_m``)."""
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(math.cos(math.radians(latitude)), 0.01))
    return {
        "latitude__gte": latitude - dlat,
        "latitude__lte": latitude + dlat,
        "longitude__gte": longitude - dlon,
        "longitude__lte": longitude + dlon,
    }


def nearby_open_cases(
    *, category, latitude: float, longitude: float, radius_m: int | None = None, limit: int = 5
) -> list[tuple[Case, int]]:
    """Open public cases of the same category within the category's radius, nearest first:
    what the citizen sees before submitting, to follow one instead of filing again."""
    radius = radius_m or category.duplicate_radius_m
    # Read through the box index: the category and the status hold most cases.
    candidates = filter_unindexed(
        public_cases().filter(**around_filter(latitude, longitude, radius)),
        category_id=category.pk,
        status__in=OPEN_STATUSES,
    ).order_by("-registered_at")[:200]
    found = []
    for case in candidates:
        d = distance_m(latitude, longitude, case.latitude, case.longitude)
        if d <= radius:
            found.append((case, round(d)))
    found.sort(key=lambda pair: pair[1])
    return found[:limit]


def public_case(reference: str) -> Case:
    """A case the public may see, by reference; ValidationError if none."""
    from cetatea.cases.selectors import normalize_reference

    ref = normalize_reference(reference)
    case = (
        Case.objects.select_related("category", "department", "operator", "area", "merged_into")
        .filter(reference=ref, publication=Publication.PUBLIC)
        .first()
    )
    if case is None:
        raise ValidationError(
            _("There is no public case with the reference %(ref)s.") % {"ref": ref}
        )
    return case


def public_history(case: Case) -> list[CaseEvent]:
    """What the public sees of a case's history: status changes and the city's public
    replies, never internal notes, never who in the city wrote them."""
    return list(
        CaseEvent.objects.filter(case=case, is_public=True)
        .exclude(kind=EventKind.INTERNAL_NOTE)
        .exclude(moderation__hidden=True)
        .select_related("moderation")
        .order_by("created_at", "id")[:200]
    )


def public_photos(case: Case) -> list[Photo]:
    return list(
        Photo.objects.filter(case=case, is_public=True, status=PhotoStatus.READY).order_by(
            "sort_order", "id"
        )
    )


def citizen_cases(*, person, email: str, page: int = 1, page_size: int = 25):
    """The cases of a citizen from every channel: filed as the person or with the e-mail."""
    qs = (
        Case.objects.filter(Q(requester=person) | Q(contact_email=email))
        .select_related("category")
        .order_by("-registered_at", "-id")
    )
    offset = (max(page, 1) - 1) * page_size
    rows = list(qs[offset : offset + page_size + 1])
    return rows[:page_size], len(rows) > page_size


def case_list(*, filters: MapFilters, area_code: str = "", page: int = 1, page_size: int = 25):
    """Public cases as a list, newest first, with the map's filters (no bounding box)."""
    # Read newest first: a category, a status or a neighbourhood holds many cases, and
    # a page of the newest is a short read of the time index.
    qs = public_cases().select_related("category", "area")
    if filters.categories:
        ids = Category.objects.filter(code__in=filters.categories).values("pk")
        qs = filter_unindexed(qs, category_id__in=ids)
    if filters.state == "open":
        qs = filter_unindexed(qs, status__in=OPEN_STATUSES)
    elif filters.state == "closed":
        qs = filter_unindexed(qs, status__in=CLOSED_STATUSES)
    days = AGES.get(filters.age, AGES[DEFAULT_AGE])
    if days is not None:
        qs = qs.filter(registered_at__gte=timezone.now() - dt.timedelta(days=days))
    if area_code:
        qs = filter_unindexed(qs, area_id__in=Area.objects.filter(code=area_code).values("pk"))
    offset = (page - 1) * page_size
    rows = list(qs.order_by("-registered_at", "-id")[offset : offset + page_size + 1])
    return rows[:page_size], len(rows) > page_size


def public_answers(case: Case) -> list[tuple[str, str]]:
    """(question, answer) pairs of the extra questions, labels in the active language."""
    if not case.answers:
        return []
    from cetatea.catalog.models import CategoryQuestion

    pairs = []
    for q in CategoryQuestion.objects.filter(category_id=case.category_id):
        if q.code not in case.answers:
            continue
        value = case.answers[q.code]
        values = value if isinstance(value, list) else [value]
        pairs.append((q.label, ", ".join(q.choice_label(str(v)) for v in values)))
    return pairs
