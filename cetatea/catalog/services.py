"""Write operations on the service catalogue: loading a city's catalogue, areas and streets.

The loaders are idempotent: records are matched by ``code`` (routes by category + area,
streets by name + locality), created when missing and saved only when a value in the file
differs from the database.
They never delete anything; a record dropped from the file stays as it is (deactivate it
in the admin). Any error raises ``ValidationError`` and rolls the whole load back.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from shapely import STRtree

from cetatea.catalog.geo import area_for_point, shape_from_geojson
from cetatea.catalog.models import (
    Area,
    Category,
    CategoryRoute,
    Department,
    OutsideOperator,
    Street,
    Team,
)
from cetatea.core.text import name_key

# Overlap between two areas larger than this share of the smaller one is an error;
# below it, it is rounding noise on a shared border.
_OVERLAP_TOLERANCE = 1e-6

_CATALOG_SECTIONS = ("departments", "teams", "operators", "categories", "routes")


def _tally() -> dict[str, int]:
    return {"created": 0, "updated": 0, "unchanged": 0}


def _describe(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" if field != "__all__" else " ".join(messages)
            for field, messages in error.message_dict.items()
        )
    return "; ".join(error.messages)


def _upsert(
    model: type[models.Model],
    *,
    lookup: dict[str, Any],
    values: dict[str, Any],
    label: str,
) -> tuple[models.Model, str]:
    """Create or update one row; save only if something changed. Returns (row, outcome)."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        outcome = "created"
    else:
        changed = [field for field, value in values.items() if getattr(obj, field) != value]
        if not changed:
            return obj, "unchanged"
        for field in changed:
            setattr(obj, field, values[field])
        outcome = "updated"
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise ValidationError(
            _("%(label)s: %(problem)s"), params={"label": label, "problem": _describe(exc)}
        ) from exc
    obj.save()
    return obj, outcome


def _require_text(item: dict, key: str, label: str, errors: list[str]) -> None:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        errors.append(_("%(label)s: “%(key)s” is missing or empty.") % {"label": label, "key": key})


def _check_items(section: str, items: Any, *, required: tuple[str, ...]) -> list[str]:
    """Structural checks of one list of records; returns error messages."""
    if not isinstance(items, list):
        return [_("“%(section)s” must be a list.") % {"section": section}]
    errors: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(items, start=1):
        label = f"{section}[{index}]"
        if not isinstance(item, dict):
            errors.append(_("%(label)s is not an object.") % {"label": label})
            continue
        code = item.get("code")
        if isinstance(code, str) and code.strip():
            label = f"{section} {code}"
            if code in seen:
                errors.append(_("%(label)s appears twice.") % {"label": label})
            seen.add(code)
        for key in required:
            _require_text(item, key, label, errors)
    return errors


def _resolve(
    model: type[models.Model], code: str | None, known: dict[str, models.Model]
) -> models.Model | None:
    """The row with this code: loaded from the file in this run, else already in the DB."""
    if code in (None, ""):
        return None
    if code in known:
        return known[code]
    row = model.objects.filter(code=code).first()
    if row is None:
        raise LookupError(code)
    known[code] = row
    return row


def _load_question(category: Category, item: dict, order: int, label: str) -> None:
    """Upsert one extra question (an Open311 attribute) of a category, by its code."""
    from cetatea.catalog.models import CategoryQuestion

    code, datatype = item.get("code"), item.get("datatype", "string")
    if not code or not item.get("label_ro"):
        raise ValidationError(
            _("%(label)s: a question needs a “code” and a “label_ro”."), params={"label": label}
        )
    if datatype not in CategoryQuestion.Datatype.values:
        raise ValidationError(
            _("%(label)s: unknown type of answer “%(type)s”."),
            params={"label": label, "type": datatype},
        )
    choices = item.get("choices", [])
    if datatype in ("singlevaluelist", "multivaluelist") and not all(
        isinstance(c, dict) and c.get("key") and c.get("name_ro") for c in choices or [None]
    ):
        raise ValidationError(
            _("%(label)s: the question “%(code)s” needs choices with a key and a name_ro."),
            params={"label": label, "code": code},
        )
    CategoryQuestion.objects.update_or_create(
        category=category,
        code=code,
        defaults={
            "label_ro": item["label_ro"],
            "label_en": item.get("label_en", ""),
            "datatype": datatype,
            "required": bool(item.get("required", False)),
            "choices": choices,
            "sort_order": item.get("sort_order", order),
        },
    )


def _optional(item: dict, fields: tuple[str, ...]) -> dict[str, Any]:
    """Only the optional fields the file actually sets (so admin edits survive a reload)."""
    return {field: item[field] for field in fields if field in item}


def catalog_load(*, catalog: dict) -> dict:
    """Create or update departments, teams, outside operators, categories and routes.

    ``catalog`` is the parsed ``catalog.json``: a dict with the lists ``departments``,
    ``teams`` (``department`` = department code), ``operators``, ``categories``
    (``department`` and/or ``operator`` codes, ``target_hours``, ``regime``, ``group``,
    ``sort_order``) and optionally ``routes`` (``category``, ``area`` and a ``department``,
    ``operator`` and/or ``team`` code). References may point at records in the same file
    or already in the database; routes need their areas loaded first (``areas_load``).

    Runs in one transaction. Returns ``{section: {"created": n, "updated": n,
    "unchanged": n}}``. Raises ``ValidationError`` (and changes nothing) when the file is
    malformed, a code is missing or duplicated, or a reference is unknown.
    """
    if not isinstance(catalog, dict):
        raise ValidationError(_("The catalogue must be a JSON object."))
    unknown = sorted(set(catalog) - set(_CATALOG_SECTIONS) - {"notes"})
    if unknown:
        raise ValidationError(
            _("Unknown sections in the catalogue: %(sections)s."),
            params={"sections": ", ".join(unknown)},
        )
    sections = {name: catalog.get(name, []) for name in _CATALOG_SECTIONS}
    errors: list[str] = []
    for name in ("departments", "teams", "operators", "categories"):
        errors += _check_items(name, sections[name], required=("code", "name_ro"))
    errors += _check_items("routes", sections["routes"], required=("category", "area"))
    if errors:
        raise ValidationError(errors)

    summary = {name: _tally() for name in _CATALOG_SECTIONS}
    departments: dict[str, models.Model] = {}
    teams: dict[str, models.Model] = {}
    operators: dict[str, models.Model] = {}
    categories: dict[str, models.Model] = {}

    def ref(model, code, known, label, what):
        try:
            return _resolve(model, code, known)
        except LookupError:
            raise ValidationError(
                _("%(label)s: unknown %(what)s “%(code)s”."),
                params={"label": label, "what": model._meta.verbose_name, "code": code},
            ) from None

    with transaction.atomic():
        for item in sections["departments"]:
            obj, outcome = _upsert(
                Department,
                lookup={"code": item["code"]},
                values={
                    "name_ro": item["name_ro"],
                    "name_en": item.get("name_en", ""),
                    **_optional(item, ("email", "phone", "is_active")),
                },
                label=f"departments {item['code']}",
            )
            departments[obj.code] = obj
            summary["departments"][outcome] += 1

        for item in sections["teams"]:
            label = f"teams {item['code']}"
            department = ref(Department, item.get("department"), departments, label, "department")
            if department is None:
                raise ValidationError(
                    _("%(label)s: a team needs a department."), params={"label": label}
                )
            obj, outcome = _upsert(
                Team,
                lookup={"code": item["code"]},
                values={
                    "name_ro": item["name_ro"],
                    "name_en": item.get("name_en", ""),
                    "department_id": department.pk,
                },
                label=label,
            )
            teams[obj.code] = obj
            summary["teams"][outcome] += 1

        for item in sections["operators"]:
            obj, outcome = _upsert(
                OutsideOperator,
                lookup={"code": item["code"]},
                values={
                    "name_ro": item["name_ro"],
                    "name_en": item.get("name_en", ""),
                    **_optional(item, ("email", "phone")),
                },
                label=f"operators {item['code']}",
            )
            operators[obj.code] = obj
            summary["operators"][outcome] += 1

        for item in sections["categories"]:
            label = f"categories {item['code']}"
            department = ref(Department, item.get("department"), departments, label, "department")
            operator = ref(
                OutsideOperator, item.get("operator"), operators, label, "outside operator"
            )
            if department is None and operator is None:
                raise ValidationError(
                    _("%(label)s: a category needs a department or an outside operator."),
                    params={"label": label},
                )
            target_hours = item.get("target_hours")
            if isinstance(target_hours, bool) or not isinstance(target_hours, int):
                raise ValidationError(
                    _("%(label)s: “target_hours” must be a whole number of hours."),
                    params={"label": label},
                )
            obj, outcome = _upsert(
                Category,
                lookup={"code": item["code"]},
                values={
                    "name_ro": item["name_ro"],
                    "name_en": item.get("name_en", ""),
                    "group": item.get("group", ""),
                    "department_id": department.pk if department else None,
                    "operator_id": operator.pk if operator else None,
                    "target_hours": target_hours,
                    "regime": item.get("regime", Category._meta.get_field("regime").default),
                    "sort_order": item.get("sort_order", 0),
                    **_optional(
                        item,
                        (
                            "is_active",
                            "on_map",
                            "notice_ro",
                            "notice_en",
                            "requires_photo",
                            "duplicate_radius_m",
                            "confirm_by_email",
                        ),
                    ),
                },
                label=label,
            )
            categories[obj.code] = obj
            summary["categories"][outcome] += 1
            for order, question in enumerate(item.get("questions", [])):
                _load_question(obj, question, order, label)

        areas: dict[str, models.Model] = {}
        for item in sections["routes"]:
            label = f"routes {item['category']}/{item['area']}"
            category = ref(Category, item["category"], categories, label, "category")
            area = ref(Area, item["area"], areas, label, "area")
            department = ref(Department, item.get("department"), departments, label, "department")
            operator = ref(
                OutsideOperator, item.get("operator"), operators, label, "outside operator"
            )
            team = ref(Team, item.get("team"), teams, label, "team")
            if department is None and team is not None:
                department = team.department
            if department is None and operator is None:
                raise ValidationError(
                    _("%(label)s: a route needs a department, a team or an outside operator."),
                    params={"label": label},
                )
            _obj, outcome = _upsert(
                CategoryRoute,
                lookup={"category": category, "area": area},
                values={
                    "department_id": department.pk if department else None,
                    "operator_id": operator.pk if operator else None,
                    "team_id": team.pk if team else None,
                },
                label=label,
            )
            summary["routes"][outcome] += 1

    return summary


def _check_overlaps(shapes: list[tuple[str, Any]]) -> list[str]:
    """Pairs of areas in the file that overlap by more than rounding noise."""
    errors: list[str] = []
    tree = STRtree([geom for _code, geom in shapes])
    for i, (code, geom) in enumerate(shapes):
        for j in tree.query(geom, predicate="intersects"):
            if j <= i:
                continue
            other_code, other = shapes[j]
            overlap = geom.intersection(other).area
            if overlap > _OVERLAP_TOLERANCE * min(geom.area, other.area):
                errors.append(
                    _("Areas %(a)s and %(b)s overlap; a point must fall in only one area.")
                    % {"a": code, "b": other_code}
                )
    return errors


def areas_load(*, feature_collection: dict) -> dict:
    """Create or update the city's areas from a GeoJSON FeatureCollection (WGS 84).

    Each feature needs ``properties.code`` (a slug), ``properties.name_ro`` (and
    optionally ``name_en``) and a valid Polygon or MultiPolygon geometry (checked with
    ``cetatea.catalog.geo.shape_from_geojson``). Areas in the file must not overlap.

    Runs in one transaction. Returns ``{"areas": {"created": n, "updated": n,
    "unchanged": n}}``. Raises ``ValidationError`` (and changes nothing) when the file is
    not a FeatureCollection, a code or name is missing or duplicated, or a polygon is
    invalid.
    """
    if not isinstance(feature_collection, dict) or (
        feature_collection.get("type") != "FeatureCollection"
    ):
        raise ValidationError(_("The areas file must be a GeoJSON FeatureCollection."))
    features = feature_collection.get("features")
    if not isinstance(features, list) or not features:
        raise ValidationError(_("The areas file has no features."))

    errors: list[str] = []
    rows: list[dict[str, Any]] = []
    shapes: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for index, feature in enumerate(features, start=1):
        label = f"features[{index}]"
        if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
            errors.append(
                _("%(label)s is not a GeoJSON feature with properties.") % {"label": label}
            )
            continue
        props = feature["properties"]
        code = props.get("code")
        if not isinstance(code, str) or not code.strip():
            errors.append(_("%(label)s: “code” is missing or empty.") % {"label": label})
            continue
        label = f"area {code}"
        if code in seen:
            errors.append(_("%(label)s appears twice.") % {"label": label})
        seen.add(code)
        _require_text(props, "name_ro", label, errors)
        geometry = feature.get("geometry")
        try:
            geom = shape_from_geojson(geometry)
        except ValueError as exc:
            errors.append(f"{label}: {exc}")
            continue
        shapes.append((code, geom))
        rows.append(
            {
                "code": code,
                "name_ro": props.get("name_ro", ""),
                "name_en": props.get("name_en", ""),
                "geometry": {"type": geometry["type"], "coordinates": geometry["coordinates"]},
            }
        )
    if not errors:
        errors = _check_overlaps(shapes)
    if errors:
        raise ValidationError(errors)

    summary = {"areas": _tally()}
    with transaction.atomic():
        for row in rows:
            _obj, outcome = _upsert(
                Area,
                lookup={"code": row["code"]},
                values={
                    "name_ro": row["name_ro"],
                    "name_en": row["name_en"],
                    "geometry": row["geometry"],
                },
                label=f"area {row['code']}",
            )
            summary["areas"][outcome] += 1
    return summary


# --- streets ----------------------------------------------------------------------------

_STREET_DEFAULT_LOCALITY = Street._meta.get_field("locality").default
# Legacy Romanian text uses s/t with cedilla; the correct letters have a comma below.
_CEDILLA_TO_COMMA = str.maketrans({"ş": "ș", "ţ": "ț", "Ş": "Ș", "Ţ": "Ț"})


def _street_text(value: str) -> str:
    """Trimmed, NFC, single-spaced, with comma-below ș ț (so legacy files load cleanly)."""
    value = unicodedata.normalize("NFC", value).translate(_CEDILLA_TO_COMMA)
    return " ".join(value.split())


def _coordinate(item: dict, key: str, label: str, errors: list[str]) -> float | None:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors.append(
            _("%(label)s: “%(key)s” must be a number (decimal degrees, WGS 84), not %(value)s.")
            % {"label": label, "key": key, "value": repr(value)}
        )
        return None
    return float(value)


def streets_load(*, streets: dict) -> dict:
    """Create or update the city's streets (for typing a place instead of tapping the map).

    ``streets`` is the parsed streets file: ``{"notes": "...", "streets": [row, ...]}``
    where each row has ``name`` (as written on the street sign, e.g. "Calea Moților"),
    optionally ``locality`` (default "Alba Iulia"; a component village such as "Micești")
    and ``lat`` / ``lon``: an approximate point of the street, in decimal degrees (WGS 84),
    which must fall inside one of the city's areas (``cetatea.catalog.geo.area_for_point``),
    so the areas must be loaded first.

    Rows are matched by (name, locality); ``name_key`` is ``cetatea.core.text.name_key`` of
    the name. Names and localities are trimmed and legacy cedilla ş ţ become ș ț. Streets
    missing from the file are left alone (nothing is deleted).

    The whole file is checked before anything is written, and the writes run in one
    transaction. Returns ``{"streets": {"created": n, "updated": n, "unchanged": n}}``.
    Raises ``ValidationError`` (and changes nothing) when the file is not an object with a
    ``streets`` list, or a row has no name, non-numeric coordinates, a point outside the
    city, or repeats another row; each message names the row (``streets[7] “…”``).
    """
    if not isinstance(streets, dict):
        raise ValidationError(_("The streets file must be a JSON object."))
    unknown = sorted(set(streets) - {"streets", "notes"})
    if unknown:
        raise ValidationError(
            _("Unknown sections in the streets file: %(sections)s."),
            params={"sections": ", ".join(unknown)},
        )
    items = streets.get("streets")
    if not isinstance(items, list):
        raise ValidationError(_("“streets” must be a list."))
    if items and not Area.objects.exists():
        raise ValidationError(_("Load the city's areas before its streets."))

    errors: list[str] = []
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], str] = {}
    for index, item in enumerate(items, start=1):
        label = f"streets[{index}]"
        if not isinstance(item, dict):
            errors.append(_("%(label)s is not an object.") % {"label": label})
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            errors.append(_("%(label)s: “name” is missing or empty.") % {"label": label})
            continue
        name = _street_text(name)
        label = f"{label} “{name}”"
        if not name_key(name):
            errors.append(_("%(label)s: the name has no letters or digits.") % {"label": label})
            continue
        locality = item.get("locality", _STREET_DEFAULT_LOCALITY)
        if not isinstance(locality, str) or not locality.strip():
            errors.append(_("%(label)s: “locality” is empty.") % {"label": label})
            continue
        locality = _street_text(locality)
        lat = _coordinate(item, "lat", label, errors)
        lon = _coordinate(item, "lon", label, errors)
        if lat is None or lon is None:
            continue
        try:
            area_for_point(lat, lon)
        except ValidationError:
            errors.append(
                _("%(label)s: the point (%(lat)s, %(lon)s) is outside the city's areas.")
                % {"label": label, "lat": lat, "lon": lon}
            )
            continue
        if (name, locality) in seen:
            errors.append(
                _("%(label)s (%(locality)s) repeats %(first)s.")
                % {"label": label, "locality": locality, "first": seen[(name, locality)]}
            )
            continue
        seen[(name, locality)] = label
        rows.append({"name": name, "locality": locality, "lat": lat, "lon": lon, "label": label})
    if errors:
        raise ValidationError(errors)

    summary = {"streets": _tally()}
    with transaction.atomic():
        for row in rows:
            _obj, outcome = _upsert(
                Street,
                lookup={"name": row["name"], "locality": row["locality"]},
                values={
                    "name_key": name_key(row["name"]),
                    "latitude": row["lat"],
                    "longitude": row["lon"],
                },
                label=row["label"],
            )
            summary["streets"][outcome] += 1
    return summary
