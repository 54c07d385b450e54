"""Points and polygons: which area of the city a point falls in."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from shapely import prepared
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry


def shape_from_geojson(geometry: dict) -> BaseGeometry:
    try:
        geom = shape(geometry)
    except Exception as exc:  # shapely raises several types for malformed GeoJSON
        raise ValueError(_("The area is not a valid GeoJSON polygon.")) from exc
    if geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.is_valid:
        raise ValueError(_("The area is not a valid GeoJSON polygon."))
    return geom


@dataclass(frozen=True)
class _Index:
    areas: tuple[tuple[int, object], ...]  # (area id, prepared geometry)


@lru_cache(maxsize=4)
def _index(version: tuple) -> _Index:
    from cetatea.catalog.models import Area

    return _Index(
        tuple(
            (a.pk, prepared.prep(shape_from_geojson(a.geometry)))
            for a in Area.objects.only("pk", "geometry").order_by("pk")
        )
    )


def _version() -> tuple:
    from django.db.models import Count, Max

    from cetatea.catalog.models import Area

    agg = Area.objects.aggregate(n=Count("pk"), t=Max("updated_at"), m=Max("pk"))
    return (agg["n"], agg["t"], agg["m"])


def validate_point(lat: float, lon: float) -> tuple[float, float]:
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("The location is not a pair of coordinates."), "bad_point") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError(_("The location is not a pair of coordinates."), "bad_point")
    return lat, lon


def area_for_point(lat: float, lon: float):
    """The Area containing the point, or ``ValidationError`` if it is outside the city."""
    from cetatea.catalog.models import Area

    lat, lon = validate_point(lat, lon)
    point = Point(lon, lat)
    for area_id, geom in _index(_version()).areas:
        if geom.covers(point):
            return Area.objects.get(pk=area_id)
    raise ValidationError(
        _("This place is outside the city; please choose a point inside its boundary."),
        code="outside_city",
    )
