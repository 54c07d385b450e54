"""Generate ``alba_iulia_areas.geojson``: APPROXIMATE neighbourhood polygons for Alba Iulia.

These polygons are NOT official boundaries. They are a Voronoi tessellation of a
hand-estimated centre point for each neighbourhood / component locality (see ``CENTRES``),
clipped to a generous bounding box of the whole municipality (UAT):
lat 46.00-46.13, lon 23.47-23.66 (WGS 84). Together they tile the box without gaps or
overlaps, so every point inside the box falls in exactly one area; points outside it are
"outside the city". They are good enough for routing demo reports and for the map, not for
anything legal. Replace them with real boundaries (e.g. from the city's GIS or
OpenStreetMap) when available; the app only needs a GeoJSON FeatureCollection whose
features carry ``code``, ``name_ro`` and ``name_en`` properties.

Regenerate (from the project root, with the project virtualenv; needs only shapely):

    .venv/bin/python cetatea/catalog/data/make_areas.py

then load it into the database with ``manage.py load_catalog``. To move an area, edit its
centre in ``CENTRES`` and rerun. Coordinates are rounded to 5 decimals (about 1 m); the
script checks that every polygon is valid, that no two overlap and that their union covers
the bounding box before it writes the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import shapely
from shapely.geometry import MultiPoint, Point, box
from shapely.geometry.polygon import orient

OUTPUT = Path(__file__).with_name("alba_iulia_areas.geojson")

# Bounding box of the whole municipality (UAT), generous (domain rules §9.1).
MIN_LAT, MAX_LAT = 46.00, 46.13
MIN_LON, MAX_LON = 23.47, 23.66
PRECISION = 5

# (code, name_ro, name_en, lat, lon): estimated centre of each area (domain rules §9.2).
CENTRES: list[tuple[str, str, str, float, float]] = [
    # Orașul de Sus (upper town) and the slopes west of it
    ("cetate", "Cetate", "Citadel (Cetate)", 46.0677, 23.5705),
    ("carolina", "Carolina", "Carolina", 46.0745, 23.5620),
    ("schit", "Schit", "Schit", 46.0620, 23.5550),
    ("tolstoi", "Tolstoi", "Tolstoi", 46.0780, 23.5720),
    ("orizont", "Orizont", "Orizont", 46.0780, 23.5480),
    ("dealul-furcilor", "Dealul Furcilor", "Dealul Furcilor (Gallows Hill)", 46.0870, 23.5400),
    # Orașul de Jos (lower town)
    ("centru", "Centru", "City centre", 46.0705, 23.5810),
    ("maieri", "Maieri", "Maieri", 46.0605, 23.5720),
    ("lipoveni", "Lipoveni", "Lipoveni", 46.0655, 23.5900),
    ("mercur", "Mercur", "Mercur", 46.0735, 23.5880),
    ("stadion", "Stadion", "Stadion", 46.0615, 23.5805),
    ("partos", "Partoș", "Partoș", 46.0550, 23.5850),
    # Ampoi, between the two industrial zones, north / north-east of the lower town
    ("ampoi-1", "Ampoi I", "Ampoi I", 46.0785, 23.5820),
    ("ampoi-2", "Ampoi II", "Ampoi II", 46.0825, 23.5900),
    ("ampoi-3", "Ampoi III", "Ampoi III", 46.0860, 23.5800),
    ("zona-industriala", "Zona industrială", "Industrial zone", 46.0870, 23.6100),
    # Component localities (former villages)
    ("barabant", "Bărăbanț", "Bărăbanț", 46.1050, 23.5850),
    ("micesti", "Micești", "Micești", 46.1014, 23.5556),
    ("oarda", "Oarda", "Oarda (Oarda de Jos, Oarda de Sus)", 46.0300, 23.5800),
    ("paclisa", "Pâclișa", "Pâclișa", 46.0450, 23.5200),
]


def _round_ring(coords) -> list[list[float]]:
    return [[round(x, PRECISION), round(y, PRECISION)] for x, y in coords]


def build() -> dict:
    """Return the FeatureCollection (dict) after checking validity and coverage."""
    bbox = box(MIN_LON, MIN_LAT, MAX_LON, MAX_LAT)
    points = MultiPoint([(lon, lat) for _c, _ro, _en, lat, lon in CENTRES])
    cells = shapely.voronoi_polygons(points, extend_to=bbox)

    features = []
    geoms = []
    for code, name_ro, name_en, lat, lon in CENTRES:
        centre = Point(lon, lat)
        if not bbox.contains(centre):
            raise SystemExit(f"{code}: centre outside the bounding box")
        (cell,) = [c for c in cells.geoms if c.contains(centre)]
        poly = orient(cell.intersection(bbox), sign=1.0)  # RFC 7946: exterior ring CCW
        if poly.geom_type != "Polygon":
            raise SystemExit(f"{code}: clipped cell is a {poly.geom_type}")
        geometry = {"type": "Polygon", "coordinates": [_round_ring(poly.exterior.coords)]}
        rounded = shapely.geometry.shape(geometry)
        if not rounded.is_valid or not rounded.contains(centre):
            raise SystemExit(f"{code}: polygon invalid after rounding")
        geoms.append((code, rounded))
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name_ro": name_ro, "name_en": name_en},
                "geometry": geometry,
            }
        )

    union = shapely.union_all([g for _c, g in geoms])
    if not union.covers(bbox) or abs(union.area - bbox.area) > 1e-12:
        raise SystemExit("the areas do not cover the bounding box")
    overlap = sum(g.area for _c, g in geoms) - union.area
    if overlap > 1e-12:
        raise SystemExit(f"the areas overlap (total {overlap} deg²)")

    return {
        "type": "FeatureCollection",
        "name": "alba_iulia_areas",
        "description": (
            "APPROXIMATE neighbourhoods of Alba Iulia (Voronoi cells of estimated centres, "
            "clipped to the municipality bounding box). Not official boundaries. "
            "Generated by make_areas.py."
        ),
        "bbox": [MIN_LON, MIN_LAT, MAX_LON, MAX_LAT],
        "features": features,
    }


def main() -> None:
    collection = build()
    text = json.dumps(collection, ensure_ascii=False, indent=1)
    OUTPUT.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {len(collection['features'])} areas to {OUTPUT}")


if __name__ == "__main__":
    main()
