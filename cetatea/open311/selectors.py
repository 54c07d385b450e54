"""Reads of the Open311 interface: services, requests, updates, as plain dicts ready for
XML or JSON. Nothing private leaves here: no names, contact details or internal notes."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.db.models import F, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.cases.choices import (
    CLOSED_STATUSES,
    FIXMYSTREET_STATUS,
    OPEN311_STATUS,
    OPEN_STATUSES,
    EventKind,
    PhotoStatus,
    Publication,
)
from cetatea.cases.models import Case, CaseEvent, Photo
from cetatea.cases.selectors import normalize_reference
from cetatea.catalog.models import Category, CategoryQuestion
from cetatea.core.db import NoIndex, filter_unindexed
from cetatea.open311.models import ApiClient, ApiSubmission
from cetatea.open311.services import bad_request, not_found, parse_datetime, parse_float

DEFAULT_WINDOW = dt.timedelta(days=90)
MAX_PAGE_SIZE = 1000
MAX_IDS = 200
MAX_RADIUS_M = 20_000


def _reference(raw: str) -> str | None:
    from django.core.exceptions import ValidationError

    try:
        return normalize_reference((raw or "").strip())
    except ValidationError:
        return None


def w3c(moment: dt.datetime | None) -> str | None:
    """A W3C datetime in the city's time zone, with its offset."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def absolute(path: str) -> str:
    return settings.CETATEA_SITE_URL.rstrip("/") + path


# --- services ---------------------------------------------------------------------------------


def _name(obj) -> str:
    return obj.name_ro


def service_list() -> list[dict]:
    rows = (
        Category.objects.filter(is_active=True)
        .select_related("department", "operator")
        .prefetch_related(Prefetch("questions", queryset=CategoryQuestion.objects.only("id")))
        .order_by("department__name_ro", "name_ro", "code")
    )
    services = []
    for category in rows:
        owner = category.department or category.operator
        services.append(
            {
                "service_code": category.code,
                "service_name": category.name_ro,
                "description": category.notice_ro or category.name_ro,
                "metadata": bool(category.questions.all()),
                "type": "realtime",
                "keywords": category.code.lower().replace("_", ","),
                "group": _name(owner) if owner else "",
            }
        )
    return services


def service_definition(code: str) -> dict:
    category = Category.objects.filter(code=code, is_active=True).first()
    if category is None:
        raise not_found(_("There is no service with the code %(code)s.") % {"code": code[:50]})
    attributes = []
    for order, q in enumerate(category.questions.all(), start=1):
        attribute = {
            "variable": True,
            "code": q.code,
            "datatype": q.datatype,
            "required": q.required,
            "datatype_description": q.get_datatype_display(),
            "order": order,
            "description": q.label_ro,
        }
        if q.datatype in (CategoryQuestion.Datatype.SINGLE, CategoryQuestion.Datatype.MULTI):
            attribute["values"] = [
                {"key": c.get("key", ""), "name": c.get("name_ro") or c.get("key", "")}
                for c in q.choices
            ]
        attributes.append(attribute)
    return {"service_code": category.code, "attributes": attributes}


# --- requests ---------------------------------------------------------------------------------


def visible_cases(client: ApiClient | None = None):
    """Public cases; a client that gives its key also sees the cases it filed."""
    visible = Q(publication=Publication.PUBLIC)
    if client is not None:
        visible |= Q(open311__client=client) & ~Q(publication=Publication.HIDDEN)
    return Case.objects.filter(visible)


def _with_request_fields(qs):
    """What a request shows, in one statement: the category and department by join, the
    latest public status note and the first public photo by correlated subqueries."""
    latest_note = (
        CaseEvent.objects.filter(
            case=OuterRef("pk"),
            is_public=True,
            kind__in=[EventKind.STATUS, EventKind.PUBLIC_REPLY],
        )
        .exclude(text="")
        .exclude(moderation__hidden=True)
        .order_by("-created_at", "-id")
        .annotate(shown=Coalesce(NoIndex(F("moderation__text")), F("text")))
    )
    first_photo = Photo.objects.filter(
        case=OuterRef("pk"), is_public=True, status=PhotoStatus.READY
    ).order_by("sort_order", "id")
    return qs.select_related("category", "department", "operator").annotate(
        status_note=Subquery(latest_note.values("shown")[:1]),
        photo_path=Subquery(first_photo.values("full")[:1]),
        submitted_media=Subquery(
            ApiSubmission.objects.filter(case=OuterRef("pk")).values("media_urls")[:1]
        ),
    )


def _media_url(case) -> str | None:
    from django.core.files.storage import default_storage

    if case.photo_path:
        return absolute(default_storage.url(case.photo_path))
    media = case.submitted_media
    if isinstance(media, str):  # PostgreSQL returns jsonb from a subquery as text
        import json

        media = json.loads(media)
    return media[0] if media else None


def request_dict(case: Case, *, extensions: bool = False) -> dict:
    owner = case.department or case.operator
    closed = case.status in CLOSED_STATUSES
    row = {
        "service_request_id": case.reference,
        "status": OPEN311_STATUS[case.status],
        "status_notes": case.status_note,
        "service_name": case.category.name_ro,
        "service_code": case.category.code,
        "description": case.description or case.title,
        "agency_responsible": owner.name_ro if owner else None,
        "service_notice": case.category.notice_ro or None,
        "requested_datetime": w3c(case.registered_at),
        "updated_datetime": w3c(case.closed_at if closed and case.closed_at else case.updated_at),
        "expected_datetime": w3c(case.due_at) if not closed else None,
        "address": case.address_text or None,
        "address_id": None,
        "zipcode": None,
        "lat": case.latitude,
        "long": case.longitude,
        "media_url": _media_url(case),
    }
    if extensions:
        row["title"] = case.title
        row["extended_attributes"] = {
            "channel": case.channel,
            "detailed_status": FIXMYSTREET_STATUS[case.status],
            "area": case.area.name_ro if case.area_id and case.area else None,
            "supporters": case.supporters_count,
            "url": absolute(f"/case/{case.reference}/"),
            "photos": _photos(case),
            "notes": _notes(case),
        }
    return row


def _photos(case: Case) -> list[dict]:
    from django.core.files.storage import default_storage

    return [
        {
            "media_url": absolute(default_storage.url(p.full.name)),
            "thumbnail_url": absolute(default_storage.url(p.thumbnail.name))
            if p.thumbnail
            else None,
            "title": "",
            "width": p.width,
            "height": p.height,
            "created_at": w3c(p.created_at),
        }
        for p in _public_photos(case)
    ]


def _public_photos(case: Case) -> list:
    prefetched = getattr(case, "o311_photos", None)  # a page of requests: see _with_extensions
    if prefetched is not None:
        return prefetched[:10]
    return list(Photo.objects.filter(case=case, is_public=True, status=PhotoStatus.READY)[:10])


def _notes(case: Case) -> list[dict]:
    from cetatea.portal.selectors import public_history

    notes = []
    prefetched = getattr(case, "o311_notes", None)  # a page of requests: see _with_extensions
    for event in public_history(case) if prefetched is None else prefetched[:200]:
        moderation = getattr(event, "moderation", None)
        text = moderation.text if moderation is not None and moderation.text else event.text
        notes.append(
            {
                "datetime": w3c(event.created_at),
                "type": event.kind,
                "status": OPEN311_STATUS.get(event.to_status) if event.to_status else None,
                "description": text or event.get_kind_display(),
            }
        )
    return notes


def _int(params, name: str, default: int, low: int, high: int) -> int:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(_("%(name)s must be a whole number.") % {"name": name}) from None
    if not low <= value <= high:
        raise bad_request(
            _("%(name)s must be between %(low)d and %(high)d.")
            % {"name": name, "low": low, "high": high}
        )
    return value


def _window(params, *, default_days: dt.timedelta = DEFAULT_WINDOW):
    start_raw, end_raw = (
        (params.get("start_date") or "").strip(),
        (params.get("end_date") or "").strip(),
    )
    start = parse_datetime(start_raw, "start_date") if start_raw else None
    end = parse_datetime(end_raw, "end_date") if end_raw else None
    if start and end:
        if end < start:
            raise bad_request(_("end_date is before start_date."))
        if end - start > DEFAULT_WINDOW:
            raise bad_request(_("start_date and end_date may be at most 90 days apart."))
    elif start:
        end = start + DEFAULT_WINDOW
    elif end:
        start = end - DEFAULT_WINDOW
    else:
        end = timezone.now()
        start = end - default_days
    return start, end


def paging(params) -> tuple[int, int]:
    page = _int(params, "page", 1, 1, 100_000)
    size = _int(params, "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    return page, size


def request_list(params, *, client: ApiClient | None = None) -> tuple[list[dict], bool]:
    """GET requests: (the page of requests, whether another page follows)."""
    extensions = (params.get("extensions") or "").strip().lower() == "true"
    page, size = paging(params)
    qs = visible_cases(client)
    ids_raw = (params.get("service_request_id") or "").strip()
    if ids_raw:
        # The spec: a list of ids overrides every other filter.
        raw_ids = [i for i in ids_raw.split(",") if i.strip()]
        if len(raw_ids) > MAX_IDS:
            raise bad_request(_("At most %(n)d service_request_id values.") % {"n": MAX_IDS})
        qs = qs.filter(reference__in=[r for r in map(_reference, raw_ids) if r])
    else:
        qs = _filtered(qs, params)
    qs = _with_request_fields(qs).order_by("-registered_at", "-id")
    if extensions:
        qs = _with_extensions(qs)
    offset = (page - 1) * size
    rows = list(qs[offset : offset + size + 1])
    return [request_dict(c, extensions=extensions) for c in rows[:size]], len(rows) > size


def _with_extensions(qs):
    """What ``extensions=true`` adds for a whole page in two more statements, not three
    per request: the area by join, the public photos and the public history (the same
    rows as ``_photos`` and ``portal.selectors.public_history``)."""
    history = (
        CaseEvent.objects.filter(is_public=True)
        .exclude(kind=EventKind.INTERNAL_NOTE)
        .exclude(moderation__hidden=True)
        .select_related("moderation")
        .order_by("created_at", "id")
    )
    photos = Photo.objects.filter(is_public=True, status=PhotoStatus.READY)
    return qs.select_related("area").prefetch_related(
        Prefetch("photos", queryset=photos, to_attr="o311_photos"),
        Prefetch("events", queryset=history, to_attr="o311_notes"),
    )


def _filtered(qs, params):
    start, end = _window(params)
    qs = qs.filter(registered_at__gte=start, registered_at__lte=end)
    codes = [c.strip() for c in (params.get("service_code") or "").split(",") if c.strip()]
    if codes:
        ids = Category.objects.filter(code__in=codes).values("pk")
        qs = filter_unindexed(qs, category_id__in=ids)
    states = {s.strip().lower() for s in (params.get("status") or "").split(",") if s.strip()}
    if states - {"open", "closed"}:
        raise bad_request(_("status must be open, closed or both (open,closed)."))
    if states == {"open"}:
        qs = filter_unindexed(qs, status__in=list(OPEN_STATUSES))
    elif states == {"closed"}:
        qs = filter_unindexed(qs, status__in=list(CLOSED_STATUSES))
    for name, lookup in (("updated_after", "gte"), ("updated_before", "lte")):
        raw = (params.get(name) or "").strip()
        if raw:
            qs = qs.filter(**{f"updated_at__{lookup}": parse_datetime(raw, name)})
    bbox_raw = (params.get("bbox") or "").strip()
    if bbox_raw:
        from django.core.exceptions import ValidationError

        from cetatea.portal.selectors import parse_bbox

        try:
            min_lon, min_lat, max_lon, max_lat = parse_bbox(bbox_raw)
        except ValidationError:
            raise bad_request(
                _("bbox must be min_long,min_lat,max_long,max_lat in degrees.")
            ) from None
        qs = filter_unindexed(
            qs,
            latitude__gte=min_lat,
            latitude__lte=max_lat,
            longitude__gte=min_lon,
            longitude__lte=max_lon,
        )
    lat, lon = parse_float(params, "lat"), parse_float(params, "long")
    radius = (params.get("radius") or "").strip()
    if lat is not None or lon is not None or radius:
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise bad_request(_("lat and long must be given together, in degrees."))
        metres = _int(params, "radius", 1000, 1, MAX_RADIUS_M)
        qs = _around(qs, lat, lon, metres)
    return qs


def _around(qs, lat: float, lon: float, metres: int):
    """Cases within ``metres`` of the point (flat-earth distance: exact to well under 1 %
    across a city)."""
    from cetatea.portal.selectors import around_filter

    k_lat = 111_320.0
    k_lon = 111_320.0 * math.cos(math.radians(lat))
    box = around_filter(lat, lon, metres)
    qs = filter_unindexed(qs, **box)
    dy = (F("latitude") - lat) * k_lat
    dx = (F("longitude") - lon) * k_lon
    return qs.alias(
        distance2=dy * dy + dx * dx,
    ).filter(distance2__lte=float(metres) ** 2)


def request_get(reference: str, *, client: ApiClient | None = None, extensions=False) -> dict:
    ref = _reference(reference)
    case = (
        _with_request_fields(visible_cases(client).filter(reference=ref)).first() if ref else None
    )
    if case is None:
        raise not_found(_("There is no request %(id)s.") % {"id": reference[:40]})
    return request_dict(case, extensions=extensions)


def token_get(token: str) -> dict:
    found = (
        ApiSubmission.objects.filter(token=token)
        .exclude(case__publication=Publication.HIDDEN)
        .values("case__reference")
        .first()
    )
    if found is None:
        raise not_found(_("There is no request with this token."))
    return {"service_request_id": found["case__reference"], "token": token}


# --- servicerequestupdates --------------------------------------------------------------------


def update_list(params, *, client: ApiClient | None = None) -> tuple[list[dict], bool]:
    """GET servicerequestupdates: the public updates of visible requests, oldest first,
    within a window of at most 90 days (default: the last day)."""
    start, end = _window(params, default_days=dt.timedelta(days=1))
    page, size = paging(params)
    events = (
        CaseEvent.objects.filter(
            is_public=True,
            kind__in=[EventKind.STATUS, EventKind.PUBLIC_REPLY],
            created_at__gte=start,
            created_at__lte=end,
        )
        .filter(case__in=visible_cases(client).values("pk"))
        .exclude(moderation__hidden=True)
        .select_related("case", "moderation")
        .order_by("created_at", "id")
    )
    offset = (page - 1) * size
    rows = list(events[offset : offset + size + 1])
    updates = []
    for event in rows[:size]:
        moderation = getattr(event, "moderation", None)
        text = moderation.text if moderation is not None and moderation.text else event.text
        status = FIXMYSTREET_STATUS[event.to_status] if event.to_status else "unchanged"
        updates.append(
            {
                "update_id": str(event.pk),
                "service_request_id": event.case.reference,
                "status": status,
                "updated_datetime": w3c(event.created_at),
                "description": text or event.get_kind_display(),
                "media_url": None,
            }
        )
    return updates, len(rows) > size


def case_for_update(reference: str, client: ApiClient) -> Case:
    ref = _reference(reference)
    case = visible_cases(client).filter(reference=ref).first() if ref else None
    if case is None:
        raise not_found(
            _("There is no request %(id)s.") % {"id": (reference or "")[:40] or "(empty)"}
        )
    return case
