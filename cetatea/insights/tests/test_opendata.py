"""The anonymised open-data files: what they hold, what they never hold, how they are written."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from cetatea.cases.choices import Publication
from cetatea.cases.services import Contact, case_change_status
from cetatea.catalog.models import Category
from cetatea.insights import opendata
from cetatea.insights.refresh import rebuild
from cetatea.people.services import AddressData
from cetatea.portal.services import moderate_case
from conftest import make_case, make_cnp, make_person

CNP = make_cnp(4242)
# Every string below is personal and must never reach a published file.
SECRETS = [
    "Zamfirescu",
    "Ileana",
    CNP,
    "722123456",
    "ileana.z@example.ro",
    "Vasilescu",
    "Gheorghe",
    "744555666",
    "gv@example.ro",
    "Trandafirilor",
    "Mărășești",
    "Groapă adâncă",
    "Conductă spartă",
    "46.071234",
    "23.571987",
]


@pytest.fixture
def cases(catalog, personas):
    person = make_person(
        last_name="Zamfirescu",
        first_name="Ileana",
        national_id=CNP,
        phones=["0722 123 456"],
        emails=["ileana.z@example.ro"],
        addresses=[AddressData(street="Strada Trandafirilor", number="17")],
    )
    social = Category.objects.create(
        code="SOCIAL",
        name_ro="Asistență socială",
        name_en="Social assistance",
        department=catalog["public"],
        target_hours=240,
        regime="petition",
        on_map=False,
    )
    out = {}
    # An anonymous report on the map: published, with a rounded place.
    out["report"] = make_case(
        channel="map",
        title="Groapă adâncă lângă blocul B4",
        description="Sunați-mă la 0744555666, Gheorghe Vasilescu, scara 2.",
        contact=Contact(name="Gheorghe Vasilescu", phone="0744555666", email="gv@example.ro"),
        latitude=46.071234,
        longitude=23.571987,
        address_text="Strada Mărășești 21",
        publication=Publication.PUBLIC,
    )
    # An identified person's leak (a "ticket" category): published without the person.
    out["leak"] = make_case(
        category="LEAK",
        title="Conductă spartă la Zamfirescu",
        description="Ileana Zamfirescu, 0722123456, CNP " + CNP,
        requester=person,
        latitude=46.0755,
        longitude=23.5655,
        address_text="Strada Trandafirilor 17",
    )
    case_change_status(case_id=out["leak"].pk, status="fixed", actor=personas["staff"])
    # The same person's pothole is a petition (OG 27/2002): never published.
    out["petition"] = make_case(requester=person, title="Groapă adâncă, petiție")
    # A public-information request (Law 544/2001), identified or not: never published.
    out["info"] = make_case(category="INFO", requester=person, title="Cerere 544")
    out["info_anonymous"] = make_case(category="INFO", title="Cerere 544 anonimă")
    # An anonymous case in an off-map petition category: never published.
    out["social"] = make_case(category=social, title="Ajutor social")
    # A report a moderator hid: never published.
    out["hidden"] = make_case(channel="map", title="Groapă ascunsă", publication=Publication.PUBLIC)
    moderate_case(case_id=out["hidden"].pk, actor=personas["staff"], reason="abuz", hide=True)
    # Older than the published window (24 months): not in the files.
    out["old"] = make_case(
        title="Groapă veche", registered_at=timezone.now() - dt.timedelta(days=800)
    )
    rebuild()
    return out


def _read(name: str) -> str:
    return opendata.path_of(name).read_text(encoding="utf-8")


def _csv(name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(_read(name))))


def test_files_hold_no_personal_data_nor_references(cases):
    opendata.publish()
    everything = "\n".join(_read(name) for name in opendata.FILES)
    for secret in SECRETS:
        assert secret not in everything, secret
    for case in cases.values():
        assert case.reference not in everything


def test_only_operational_visible_recent_cases_are_published(cases):
    opendata.publish()
    rows = _csv(opendata.CASES_CSV)
    assert sorted(r["id"] for r in rows) == sorted(
        [opendata.opaque_id(cases["report"].pk), opendata.opaque_id(cases["leak"].pk)]
    )
    geo = json.loads(_read(opendata.CASES_GEOJSON))
    assert [f["properties"]["id"] for f in geo["features"]] == [r["id"] for r in rows]
    meta = json.loads(_read(opendata.METADATA_JSON))
    assert meta["cases"]["rows"] == 2
    assert meta["license"] == "CC BY 4.0"


def test_records_carry_the_published_fields(cases):
    opendata.publish()
    rows = {r["id"]: r for r in _csv(opendata.CASES_CSV)}
    assert list(next(iter(rows.values()))) == opendata.CASE_FIELDS
    report = rows[opendata.opaque_id(cases["report"].pk)]
    assert report["category_code"] == "POTHOLE"
    assert report["category"] == "Gropi"  # Romanian name
    assert report["area"] == "Cetate"
    assert report["channel"] == "map"
    assert (report["state"], report["status"]) == ("open", "new")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", report["registered"])
    assert report["closed"] == report["days_to_close"] == report["within_target"] == ""
    leak = rows[opendata.opaque_id(cases["leak"].pk)]
    assert (leak["state"], leak["status"]) == ("closed", "fixed")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", leak["closed"])
    assert leak["within_target"] == "yes"
    assert float(leak["days_to_close"]) == 0.0


def test_coordinates_are_rounded_to_about_100_m(cases):
    opendata.publish()
    rows = {r["id"]: r for r in _csv(opendata.CASES_CSV)}
    report = rows[opendata.opaque_id(cases["report"].pk)]
    assert (report["latitude"], report["longitude"]) == ("46.071", "23.572")
    geo = json.loads(_read(opendata.CASES_GEOJSON))
    assert geo["type"] == "FeatureCollection"
    points = {
        f["properties"]["id"]: f["geometry"] for f in geo["features"] if f["geometry"] is not None
    }
    assert points[opendata.opaque_id(cases["report"].pk)] == {
        "type": "Point",
        "coordinates": [23.572, 46.071],  # [longitude, latitude]
    }
    for feature in geo["features"]:
        assert feature["type"] == "Feature"
        assert set(feature["properties"]) == set(opendata.CASE_FIELDS) - {"latitude", "longitude"}


def test_no_place_for_categories_off_the_map(cases):
    Category.objects.filter(code="LEAK").update(on_map=False)
    opendata.publish()
    rows = {r["id"]: r for r in _csv(opendata.CASES_CSV)}
    leak = rows[opendata.opaque_id(cases["leak"].pk)]
    assert leak["latitude"] == leak["longitude"] == ""
    geo = json.loads(_read(opendata.CASES_GEOJSON))
    by_id = {f["properties"]["id"]: f for f in geo["features"]}
    assert by_id[leak["id"]]["geometry"] is None


def test_opaque_id_is_stable_distinct_and_not_the_reference(cases):
    ids = {opendata.opaque_id(c.pk) for c in cases.values()}
    assert len(ids) == len(cases)
    assert opendata.opaque_id(cases["report"].pk) == opendata.opaque_id(cases["report"].pk)
    for value in ids:
        assert re.fullmatch(r"[0-9a-f]{20}", value)


def test_opaque_id_depends_on_the_secret_key(settings, cases):
    before = opendata.opaque_id(cases["report"].pk)
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert opendata.opaque_id(cases["report"].pk) != before


def test_aggregates_suppress_small_counts(cases):
    opendata.publish()
    rows = _csv(opendata.AGGREGATES_CSV)
    assert rows, "the aggregate tables are published"
    assert {r["breakdown"] for r in rows} == {"category", "area"}
    for row in rows:
        for column in ("received", "resolved", "open_now"):
            assert row[column] == "<3" or row[column] == "0" or int(row[column]) >= 3
        if row["received"] == "<3":
            assert row["resolved_on_time_pct"] == row["median_resolution_days"] == ""


def test_regenerating_replaces_the_files_atomically(cases):
    opendata.publish()
    first = json.loads(_read(opendata.METADATA_JSON))["generated_at"]
    assert len(_csv(opendata.CASES_CSV)) == 2
    make_case(channel="map", title="Încă o groapă", publication=Publication.PUBLIC)
    opendata.publish()
    assert len(_csv(opendata.CASES_CSV)) == 3
    assert len(json.loads(_read(opendata.CASES_GEOJSON))["features"]) == 3
    assert json.loads(_read(opendata.METADATA_JSON))["generated_at"] >= first
    # Only the published files are left: no temporary file survives.
    assert sorted(p.name for p in opendata.directory().iterdir()) == sorted(opendata.FILES)


def test_a_failed_write_keeps_the_published_file(cases):
    opendata.publish()
    before = _read(opendata.CASES_CSV)
    with pytest.raises(RuntimeError):
        with opendata._atomic_text(opendata.path_of(opendata.CASES_CSV)) as handle:
            handle.write("half a file")
            raise RuntimeError("database went away")
    assert _read(opendata.CASES_CSV) == before
    assert sorted(p.name for p in opendata.directory().iterdir()) == sorted(opendata.FILES)


def test_empty_database_publishes_valid_empty_files(db):
    opendata.publish()
    assert _csv(opendata.CASES_CSV) == []
    assert json.loads(_read(opendata.CASES_GEOJSON)) == {
        "type": "FeatureCollection",
        "features": [],
    }


def test_command_prints_counts_and_skips_fresh_files(cases):
    out = io.StringIO()
    call_command("publish_open_data", stdout=out)
    assert "2 cases (2 with a place)" in out.getvalue()
    make_case(channel="map", title="Încă o groapă", publication=Publication.PUBLIC)
    out = io.StringIO()
    call_command("publish_open_data", "--if-older-than", "24", stdout=out)
    assert "up to date" in out.getvalue()
    assert len(_csv(opendata.CASES_CSV)) == 2
    out = io.StringIO()
    call_command("publish_open_data", "--if-older-than", "0", stdout=out)
    assert "3 cases" in out.getvalue()
    assert len(_csv(opendata.CASES_CSV)) == 3


def test_command_publishes_when_nothing_was_published(cases):
    out = io.StringIO()
    call_command("publish_open_data", "--if-older-than", "24", stdout=out)
    assert "Published open data" in out.getvalue()
    assert opendata.path_of(opendata.CASES_CSV).exists()


def test_licence_is_a_setting(settings, cases):
    settings.CETATEA_OPEN_DATA_LICENSE = "Licența deschisă a Municipiului"
    opendata.publish()
    assert json.loads(_read(opendata.METADATA_JSON))["license"] == "Licența deschisă a Municipiului"


def test_window_is_a_setting(settings, cases):
    settings.CETATEA_OPEN_DATA_MONTHS = 36
    opendata.publish()
    assert len(_csv(opendata.CASES_CSV)) == 3  # the 800-day-old report is now inside


def test_months_before_clamps_to_the_month_end():
    assert opendata.months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert opendata.months_before(dt.date(2026, 1, 15), 24) == dt.date(2024, 1, 15)
    assert opendata.months_before(dt.date(2026, 12, 31), 12) == dt.date(2025, 12, 31)
