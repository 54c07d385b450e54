import copy
import json
from io import StringIO

import pytest
import shapely
from django.core.exceptions import ValidationError
from django.core.management import call_command
from shapely.geometry import Point, box, shape

from cetatea.catalog.choices import Regime
from cetatea.catalog.geo import area_for_point
from cetatea.catalog.management.commands.load_catalog import DEFAULT_AREAS, DEFAULT_CATALOG
from cetatea.catalog.models import (
    Area,
    Category,
    CategoryRoute,
    Department,
    OutsideOperator,
    Team,
)
from cetatea.catalog.selectors import category_route
from cetatea.catalog.services import areas_load, catalog_load

MIN_LAT, MAX_LAT = 46.00, 46.13
MIN_LON, MAX_LON = 23.47, 23.66

# Every code of the category table in domain rules §9.5.
SECTION_9_5_CODES = {
    "ROAD_POTHOLE",
    "ROAD_SIDEWALK",
    "ROAD_MANHOLE",
    "ROAD_SNOW",
    "LIGHT_OUT",
    "LIGHT_DAY",
    "LIGHT_DAMAGE",
    "TRAF_SIGNAL",
    "TRAF_SIGN",
    "PARK_ILLEGAL",
    "VEH_ABANDONED",
    "WASTE_UNCOLLECTED",
    "WASTE_ILLEGAL",
    "STREET_CLEAN",
    "GREEN_TREE",
    "GREEN_MAINT",
    "PLAYGROUND",
    "ANIMAL_STRAY",
    "ANIMAL_DEAD",
    "PEST",
    "WATER_LEAK",
    "NOISE",
    "TRADE_ILLEGAL",
    "CONSTR_ILLEGAL",
    "POSTER_GRAFFITI",
    "TRANSPORT",
    "TAX_QUERY",
    "SOCIAL",
    "URBANISM",
    "INFO_544",
    "INTEGRITY",
    "OTHER",
}


def _json(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (Area, Department, Team, OutsideOperator, Category, CategoryRoute)
    }


@pytest.fixture
def loaded(db):
    call_command("load_catalog", stdout=StringIO())


# --- data files -------------------------------------------------------------------------


def test_data_files_use_comma_below_diacritics():
    for path in (DEFAULT_AREAS, DEFAULT_CATALOG):
        text = path.read_text(encoding="utf-8")
        assert not set(text) & set("şţŞŢ"), path  # cedilla forms are wrong in Romanian


def test_area_polygons_are_valid_and_tile_the_bbox():
    features = _json(DEFAULT_AREAS)["features"]
    assert len(features) == 20
    geoms = [shape(f["geometry"]) for f in features]
    assert all(g.is_valid and g.geom_type == "Polygon" for g in geoms)
    for feature in features:
        for ring in feature["geometry"]["coordinates"]:
            for lon, lat in ring:
                assert round(lon, 5) == lon and round(lat, 5) == lat
    bbox = box(MIN_LON, MIN_LAT, MAX_LON, MAX_LAT)
    union = shapely.union_all(geoms)
    assert union.covers(bbox)
    assert union.area == pytest.approx(bbox.area, abs=1e-12)
    assert sum(g.area for g in geoms) == pytest.approx(bbox.area, abs=1e-12)  # no overlaps


# --- loading ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_load_twice_is_idempotent():
    out = StringIO()
    call_command("load_catalog", stdout=out)
    first = _counts()
    assert first["Area"] == 20
    assert first["Category"] == len(SECTION_9_5_CODES)
    stamps = dict(Area.objects.values_list("code", "updated_at"))

    out = StringIO()
    call_command("load_catalog", stdout=out)
    assert _counts() == first
    assert dict(Area.objects.values_list("code", "updated_at")) == stamps  # nothing re-saved
    assert " 0 created, 0 updated" in out.getvalue()
    assert "created, 0 updated" in out.getvalue()


@pytest.mark.django_db
def test_reload_updates_changed_values_only():
    catalog = _json(DEFAULT_CATALOG)
    catalog_load(catalog=catalog)
    catalog["categories"][0]["target_hours"] = 999
    summary = catalog_load(catalog=catalog)
    assert summary["categories"]["updated"] == 1
    assert summary["categories"]["unchanged"] == len(SECTION_9_5_CODES) - 1
    assert Category.objects.get(code=catalog["categories"][0]["code"]).target_hours == 999


@pytest.mark.django_db
def test_every_section_9_5_category_is_loaded(loaded):
    assert set(Category.objects.values_list("code", flat=True)) >= SECTION_9_5_CODES
    for category in Category.objects.all():
        assert category.department_id or category.operator_id
        assert category.target_hours > 0


@pytest.mark.django_db
def test_catalog_values_follow_the_table(loaded):
    def cat(code):
        return Category.objects.select_related("department", "operator").get(code=code)

    assert cat("INFO_544").regime == Regime.INFO_544
    assert cat("TAX_QUERY").regime == Regime.PETITION
    assert cat("ROAD_POTHOLE").target_hours == 240
    assert cat("ROAD_MANHOLE").target_hours == 24  # 24-48 h: the shortest
    assert cat("PARK_ILLEGAL").target_hours == 8  # same day
    water = cat("WATER_LEAK")
    assert water.department is None and water.operator.code == "apa-canal"
    waste = cat("WASTE_UNCOLLECTED")
    assert (waste.department.code, waste.operator.code) == ("domeniu-public", "polaris")
    assert Team.objects.get(code="dispecerat").department.code == "relatii-publicul"


# --- areas ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_area_for_point(loaded):
    assert area_for_point(46.0677, 23.5705).code == "cetate"
    assert area_for_point(46.1014, 23.5556).code == "micesti"
    assert area_for_point("46.0677", "23.5705").code == "cetate"


@pytest.mark.django_db
def test_area_for_point_rejects_outside_and_garbage(loaded):
    with pytest.raises(ValidationError) as outside:
        area_for_point(44.43, 26.10)  # Bucharest
    assert outside.value.code == "outside_city"
    for lat, lon in (("abc", None), (None, None), (123.0, 23.5), (46.07, "x")):
        with pytest.raises(ValidationError):
            area_for_point(lat, lon)


@pytest.mark.django_db
def test_grid_over_bbox_falls_in_exactly_one_area(loaded):
    shapes = [(a.code, shape(a.geometry)) for a in Area.objects.all()]
    n = 50
    for i in range(n):
        lat = MIN_LAT + (MAX_LAT - MIN_LAT) * i / (n - 1)
        for j in range(n):
            lon = MIN_LON + (MAX_LON - MIN_LON) * j / (n - 1)
            point = Point(lon, lat)
            hits = [code for code, geom in shapes if geom.covers(point)]
            assert len(hits) == 1, (lat, lon, hits)
            assert area_for_point(lat, lon).code == hits[0]


# --- routing ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_category_route_override_by_area(loaded):
    waste = Category.objects.get(code="WASTE_UNCOLLECTED")
    micesti = Area.objects.get(code="micesti")
    cetate = Area.objects.get(code="cetate")
    crew = Team.objects.get(code="curatenie-stradala")
    CategoryRoute.objects.create(
        category=waste,
        area=micesti,
        team=crew,
        department=None,
        operator=OutsideOperator.objects.get(code="dd-chim"),
    )

    department, operator, team = category_route(category=waste, area=micesti)
    assert (department, operator.code, team) == (crew.department, "dd-chim", crew)

    department, operator, team = category_route(category=waste, area=cetate)
    assert (department.code, operator.code, team) == ("domeniu-public", "polaris", None)
    assert category_route(category=waste, area=None) == (waste.department, waste.operator, None)


@pytest.mark.django_db
def test_routes_in_catalog_file_are_loaded(loaded):
    catalog = _json(DEFAULT_CATALOG)
    catalog["routes"] = [{"category": "ROAD_POTHOLE", "area": "oarda", "team": "echipa-drumuri"}]
    assert catalog_load(catalog=catalog)["routes"]["created"] == 1
    assert catalog_load(catalog=catalog)["routes"]["unchanged"] == 1
    department, operator, team = category_route(
        category=Category.objects.get(code="ROAD_POTHOLE"), area=Area.objects.get(code="oarda")
    )
    assert (department.code, operator, team.code) == ("drumuri-utilitati", None, "echipa-drumuri")


# --- bad files --------------------------------------------------------------------------


@pytest.mark.django_db
def test_unknown_department_raises_and_changes_nothing(loaded):
    before = _counts()
    catalog = _json(DEFAULT_CATALOG)
    catalog["departments"][0]["name_ro"] = "Renamed"
    catalog["teams"].append(
        {"code": "new-team", "department": "politia-locala", "name_ro": "Echipă nouă"}
    )
    catalog["categories"].append(
        {
            "code": "NEW_ONE",
            "name_ro": "Categorie nouă",
            "department": "no-such-department",
            "target_hours": 24,
        }
    )
    with pytest.raises(ValidationError, match="no-such-department"):
        catalog_load(catalog=catalog)
    assert _counts() == before
    assert not Department.objects.filter(name_ro="Renamed").exists()


@pytest.mark.django_db
def test_unknown_department_via_command_changes_nothing(tmp_path):
    catalog = _json(DEFAULT_CATALOG)
    catalog["categories"][-1]["department"] = "no-such-department"
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog), encoding="utf-8")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no-such-department"):
        call_command("load_catalog", catalog=str(path), stdout=StringIO())
    assert all(count == 0 for count in _counts().values())  # areas rolled back too


@pytest.mark.django_db
@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c["categories"][0].pop("code"),
        lambda c: c["teams"][0].update(department="nowhere"),
        lambda c: c["categories"][0].update(department=None, operator=None),
        lambda c: c["categories"][0].update(operator="no-such-operator"),
        lambda c: c["categories"][0].update(regime="bogus"),
        lambda c: c["categories"][0].update(target_hours="ten"),
        lambda c: c["categories"].append(dict(c["categories"][0])),  # duplicate code
        lambda c: c["departments"][0].update(code="not a slug!"),
        lambda c: c.update(categories="oops"),
    ],
)
def test_bad_catalog_raises(mutate):
    catalog = _json(DEFAULT_CATALOG)
    mutate(catalog)
    with pytest.raises(ValidationError):
        catalog_load(catalog=catalog)
    assert all(count == 0 for count in _counts().values())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "mutate",
    [
        lambda fc: fc["features"][0]["properties"].pop("code"),
        lambda fc: fc["features"][0]["properties"].pop("name_ro"),
        # a bow-tie polygon (self-intersecting) is invalid
        lambda fc: fc["features"][0].update(
            geometry={
                "type": "Polygon",
                "coordinates": [
                    [[23.5, 46.0], [23.6, 46.1], [23.6, 46.0], [23.5, 46.1], [23.5, 46.0]]
                ],
            }
        ),
        lambda fc: fc["features"][0].update(
            geometry={"type": "Point", "coordinates": [23.5, 46.0]}
        ),
        lambda fc: fc["features"][0].update(geometry=None),
        lambda fc: fc["features"].append(copy.deepcopy(fc["features"][1])),  # duplicate
        # same polygon under another code: overlaps
        lambda fc: fc["features"].append(
            {**copy.deepcopy(fc["features"][1]), "properties": {"code": "x", "name_ro": "X"}}
        ),
        lambda fc: fc.update(type="Feature"),
    ],
)
def test_bad_areas_raise_and_change_nothing(mutate):
    collection = _json(DEFAULT_AREAS)
    mutate(collection)
    with pytest.raises(ValidationError):
        areas_load(feature_collection=collection)
    assert Area.objects.count() == 0


@pytest.mark.django_db
def test_bad_area_on_reload_keeps_old_geometry(loaded):
    collection = _json(DEFAULT_AREAS)
    old = Area.objects.get(code=collection["features"][0]["properties"]["code"]).geometry
    collection["features"][0]["geometry"]["coordinates"] = [[[23.5, 46.0], [23.6, 46.1]]]
    with pytest.raises(ValidationError, match=collection["features"][0]["properties"]["code"]):
        areas_load(feature_collection=collection)
    assert Area.objects.get(code=collection["features"][0]["properties"]["code"]).geometry == old


# --- admin ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore:No directory at")
def test_admin_pages_render(loaded, admin_client, settings):
    # No collectstatic in tests: use the plain storage instead of the manifest one.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from cetatea.catalog.models import StaffProfile

    user = get_user_model().objects.create_user("clerk")
    StaffProfile.objects.create(user=user, department=Department.objects.first())
    for model in (Department, Team, OutsideOperator, Category, Area, StaffProfile):
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert admin_client.get(changelist).status_code == 200
        assert admin_client.get(changelist, {"q": "a"}).status_code == 200
        assert (
            admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code
            == 200
        )
        obj = model.objects.first()
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        assert admin_client.get(change).status_code == 200
