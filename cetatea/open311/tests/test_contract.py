"""Contract of the Open311 GeoReport v2 reads, in both formats: discovery, services,
service definitions, requests (every filter), one request, tokens, updates.

Each read is checked on the wire (content type, XML declaration, root element), field by
field, against the community JSON Schemas, and XML against JSON (the same data)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cetatea.cases.choices import PhotoStatus
from cetatea.cases.models import Case, Photo
from cetatea.cases.services import case_add_note, case_change_status
from cetatea.open311.tests.support import (
    BASE,
    CONTENT_TYPES,
    FORMATS,
    W3C,
    XML_DECLARATION,
    assert_valid,
    parse,
    post_form,
    text,
    url,
)
from conftest import INSIDE, INSIDE_EAST, make_case

pytestmark = pytest.mark.django_db

REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


def public_case(at=INSIDE, **kwargs) -> Case:
    kwargs.setdefault("description", "Groapă mare")
    return make_case(publication="public", latitude=at[0], longitude=at[1], **kwargs)


def ids(data) -> list[str]:
    return [item["service_request_id"] for item in (data or [])]


def both(client, path_for) -> dict:
    """GET in both formats; checks that they carry the same data; the JSON, parsed."""
    responses = {fmt: client.get(path_for(fmt)) for fmt in FORMATS}
    for fmt, response in responses.items():
        assert response.status_code == 200, (fmt, response.content[:300])
    assert text(responses["xml"], "xml") == text(responses["json"], "json")
    return parse(responses["json"], "json")


# --- discovery ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("/open311/v2", "xml"),
        ("/open311/v2/", "xml"),
        ("/open311/v2/discovery.xml", "xml"),
        ("/open311/v2/discovery.json", "json"),
        ("/open311/v2/discovery.xml/", "xml"),
    ],
)
def test_discovery_at_the_base_and_in_both_formats(client, path, fmt):
    response = client.get(path)
    assert response.status_code == 200
    data = parse(response, fmt, root="discovery")
    assert set(data) == {"changeset", "contact", "key_service", "endpoints"}
    assert W3C.match(data["changeset"])
    assert data["contact"] and data["key_service"]
    [endpoint] = data["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/")  # FMS appends "services.xml"
    assert W3C.match(endpoint["changeset"])
    assert endpoint["type"] in ("production", "test")
    assert endpoint["formats"] == ["text/xml", "application/json"]


def test_discovery_formats_carry_the_same_data(client):
    both(client, lambda fmt: url("discovery", fmt))


# --- services -------------------------------------------------------------------------------


def test_services_list_every_active_category(client, catalog, lamp):
    from cetatea.catalog.models import Category

    Category.objects.filter(code="INFO").update(is_active=False)
    data = both(client, lambda fmt: url("services", fmt))
    assert_valid("services", data)
    by_code = {s["service_code"]: s for s in data}
    assert set(by_code) == {"POTHOLE", "LEAK", "LAMP"}
    assert by_code["LAMP"] == {
        "service_code": "LAMP",
        "service_name": "Iluminat public",
        "description": "Becurile se schimbă în 3 zile.",
        "metadata": True,
        "type": "realtime",
        "keywords": "lamp",
        "group": "Drumuri",
    }
    assert by_code["POTHOLE"]["metadata"] is False  # a JSON boolean, not "false"
    assert by_code["LEAK"]["group"] == "Apă-Canal"  # the outside operator
    xml = parse(client.get(url("services", "xml")), "xml", root="services")
    assert {s["service_code"]: s["metadata"] for s in xml} == {
        "LEAK": "false",
        "POTHOLE": "false",
        "LAMP": "true",
    }
    assert client.get(url("services", "xml")).content.count(b"<service>") == 3


def test_service_definition_has_each_datatype(client, lamp):
    data = both(client, lambda fmt: url("services/LAMP", fmt))
    assert_valid("service-definition", data)
    assert data["service_code"] == "LAMP"
    attributes = data["attributes"]
    assert [(a["code"], a["datatype"], a["required"], a["order"]) for a in attributes] == [
        ("pole", "string", True, 1),
        ("details", "text", False, 2),
        ("lamps", "number", False, 3),
        ("state", "singlevaluelist", True, 4),
        ("when", "multivaluelist", False, 5),
    ]
    assert all(a["variable"] is True and a["datatype_description"] for a in attributes)
    assert attributes[0]["description"] == "Numărul stâlpului"
    assert "values" not in attributes[0]
    assert attributes[3]["values"] == [
        {"key": "off", "name": "Stins"},
        {"key": "blink", "name": "Pâlpâie"},
    ]
    assert attributes[4]["values"] == [
        {"key": "day", "name": "Ziua"},
        {"key": "night", "name": "Noaptea"},
    ]
    xml = client.get(url("services/LAMP", "xml")).content
    assert b"<service_definition><service_code>LAMP</service_code><attributes><attribute>" in xml
    assert b"<values><value><key>off</key><name>St" in xml


def test_service_definition_without_questions(client, catalog):
    data = both(client, lambda fmt: url("services/POTHOLE", fmt))
    assert data == {"service_code": "POTHOLE", "attributes": []}
    assert_valid("service-definition", data)


# --- requests -------------------------------------------------------------------------------


@pytest.fixture
def cases(catalog, personas):
    """Public cases of two categories in two places, one closed, one older than 90 days, a
    private one."""
    now = timezone.now()
    a = public_case(category="POTHOLE", address_text="Strada Mihai Viteazu 5")
    case_change_status(
        case_id=a.pk, status="in_progress", actor=personas["staff"], text="Echipa e pe drum."
    )
    b = public_case(at=INSIDE_EAST, category="LEAK", description="Apă pe stradă")
    c = public_case(category="POTHOLE", description="Reparată")
    case_change_status(case_id=c.pk, status="fixed", actor=personas["staff"], text="Am reparat.")
    old = public_case(category="POTHOLE", registered_at=now - dt.timedelta(days=100))
    hidden = make_case(latitude=INSIDE[0], longitude=INSIDE[1], description="Privat")
    return {k: Case.objects.get(pk=v.pk) for k, v in locals().items() if isinstance(v, Case)}


def listed(client, **query) -> list[str]:
    return ids(both(client, lambda fmt: url("requests", fmt, **query)))


def test_requests_default_to_the_public_cases_of_the_last_90_days(client, cases):
    data = both(client, lambda fmt: url("requests", fmt))
    assert_valid("requests", data)
    assert ids(data) == [cases["c"].reference, cases["b"].reference, cases["a"].reference]
    for item in data:
        assert set(item) == REQUEST_FIELDS
        assert isinstance(item["lat"], float) and isinstance(item["long"], float)
        assert W3C.match(item["requested_datetime"]) and W3C.match(item["updated_datetime"])
        assert item["requested_datetime"].endswith(("+02:00", "+03:00"))  # the city's time
    a, b, c = (
        next(i for i in data if i["service_request_id"] == cases[k].reference) for k in "abc"
    )
    assert a["status"] == "open" and c["status"] == "closed" and b["status"] == "open"
    assert (a["lat"], a["long"]) == INSIDE and (b["lat"], b["long"]) == INSIDE_EAST
    assert a["service_code"] == "POTHOLE" and a["service_name"] == "Gropi"
    assert a["agency_responsible"] == "Drumuri" and b["agency_responsible"] == "Apă-Canal"
    assert a["address"] == "Strada Mihai Viteazu 5"
    assert a["description"] == "Groapă mare"
    assert a["status_notes"] == "Echipa e pe drum."
    assert W3C.match(a["expected_datetime"])
    assert c["expected_datetime"] is None  # closed: nothing more expected
    closed_at = timezone.localtime(cases["c"].closed_at).isoformat(timespec="seconds")
    assert c["updated_datetime"] == closed_at


def test_requests_xml_fields(client, cases):
    response = client.get(url("requests", "xml"))
    assert response.content.startswith(XML_DECLARATION)
    data = parse(response, "xml", root="service_requests")
    assert response.content.count(b"<request>") == 3
    item = next(i for i in data if i["service_request_id"] == cases["a"].reference)
    assert set(item) == REQUEST_FIELDS
    assert float(item["lat"]) == INSIDE[0] and float(item["long"]) == INSIDE[1]
    assert item["status"] == "open" and item["service_code"] == "POTHOLE"
    assert W3C.match(item["requested_datetime"]) and W3C.match(item["updated_datetime"])
    assert item["zipcode"] == ""  # null is an empty element


def test_a_list_of_ids_overrides_every_other_filter(client, cases):
    wanted = f"{cases['old'].reference}, {cases['a'].reference},AB-2026-999999,nonsense"
    found = listed(
        client,
        service_request_id=wanted,
        service_code="LEAK",
        status="closed",
        start_date="2020-01-01T00:00:00Z",
        end_date="2020-01-02T00:00:00Z",
    )
    assert found == [cases["a"].reference, cases["old"].reference]
    # a private case is not found by its id either
    assert listed(client, service_request_id=cases["hidden"].reference) == []


def test_filter_by_service_code_and_status(client, cases):
    assert listed(client, service_code="LEAK") == [cases["b"].reference]
    assert listed(client, service_code="LEAK,POTHOLE") == [
        cases["c"].reference,
        cases["b"].reference,
        cases["a"].reference,
    ]
    assert listed(client, service_code="NOPE") == []
    assert listed(client, status="closed") == [cases["c"].reference]
    assert listed(client, status="open") == [cases["b"].reference, cases["a"].reference]
    assert len(listed(client, status="open,closed")) == 3
    assert len(listed(client, status="", service_code="")) == 3  # empty is absent


def test_filter_by_dates_on_the_requested_datetime(client, cases):
    registered = cases["old"].registered_at
    start = (registered - dt.timedelta(days=1)).isoformat()
    end = (registered + dt.timedelta(days=1)).isoformat()
    assert listed(client, start_date=start, end_date=end) == [cases["old"].reference]
    assert listed(client, start_date=start) == [cases["old"].reference]  # 90 days on
    # end_date alone: the 90 days before it
    assert listed(client, end_date=end) == [cases["old"].reference]
    utc = (
        (timezone.now() + dt.timedelta(minutes=1)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    assert len(listed(client, end_date=utc)) == 3


def test_paging(client, cases):
    first = client.get(url("requests", "json", page_size=2))
    assert ids(parse(first, "json")) == [cases["c"].reference, cases["b"].reference]
    assert first["Link"] == '</open311/v2/requests.json?page_size=2&page=2>; rel="next"'
    second = client.get(url("requests", "xml", page_size=2, page=2))
    assert ids(parse(second, "xml")) == [cases["a"].reference]
    assert "Link" not in second
    assert parse(client.get(url("requests", "json", page_size=2, page=3)), "json") == []
    assert client.get(url("requests", "xml", page_size=2, page=3)).content.endswith(
        b"<service_requests />"
    )


def test_bbox_and_radius(client, cases):
    east = "23.585,46.065,23.595,46.075"
    assert listed(client, bbox=east) == [cases["b"].reference]
    near = listed(client, lat=INSIDE[0], long=INSIDE[1], radius=500)
    assert near == [cases["c"].reference, cases["a"].reference]
    assert listed(client, lat=INSIDE_EAST[0], long=INSIDE_EAST[1]) == [cases["b"].reference]
    assert len(listed(client, lat=INSIDE[0], long=INSIDE[1], radius=5000)) == 3


def test_updated_after(client, cases):
    long_ago = timezone.now() - dt.timedelta(days=10)
    Case.objects.filter(pk__in=[cases["a"].pk, cases["b"].pk]).update(updated_at=long_ago)
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert listed(client, updated_after=since) == [cases["c"].reference]
    assert listed(client, updated_before=since) == [cases["b"].reference, cases["a"].reference]


def test_extensions_show_channel_photos_and_public_notes(client, cases, personas):
    a = cases["a"]
    Photo.objects.create(
        case=a,
        original="cases/a/original.jpg",
        full="photos/a/full.jpg",
        thumbnail="photos/a/thumb.jpg",
        status=PhotoStatus.READY,
        width=800,
        height=600,
    )
    Photo.objects.create(
        case=a,
        original="cases/a/private.jpg",
        full="photos/a/private.jpg",
        is_public=False,
        status=PhotoStatus.READY,
    )
    case_add_note(case_id=a.pk, text="Revenim mâine.", actor=personas["staff"], public=True)
    case_add_note(case_id=a.pk, text="Notă internă secretă", actor=personas["staff"])
    data = both(
        client, lambda fmt: url("requests", fmt, service_request_id=a.reference, extensions="true")
    )
    assert_valid("requests", data)
    [item] = data
    assert item["media_url"].startswith("http") and item["media_url"].endswith("/photos/a/full.jpg")
    assert item["status_notes"] == "Revenim mâine."
    extended = item["extended_attributes"]
    assert extended["channel"] == "web"
    assert extended["detailed_status"] == "in_progress"
    assert extended["url"].endswith(f"/case/{a.reference}/")
    [photo] = extended["photos"]
    assert photo["media_url"] == item["media_url"]
    assert photo["thumbnail_url"].endswith("/photos/a/thumb.jpg")
    assert (photo["width"], photo["height"]) == (800, 600) and W3C.match(photo["created_at"])
    notes = [(n["type"], n["status"], n["description"]) for n in extended["notes"]]
    assert ("status", "open", "Echipa e pe drum.") in notes
    assert ("public_reply", None, "Revenim mâine.") in notes
    assert all(W3C.match(n["datetime"]) for n in extended["notes"])
    body = client.get(url("requests", "xml", extensions="true")).content.decode()
    assert "Notă internă secretă" not in body and "private.jpg" not in body
    assert "<extended_attributes><channel>web</channel>" in body
    assert "<photos><photo><media_url>http" in body and "<notes><note>" in body
    # without extensions, none of it
    plain = parse(client.get(url("requests", "json", service_request_id=a.reference)), "json")
    assert set(plain[0]) == REQUEST_FIELDS


def test_one_request(client, cases):
    a = cases["a"]
    data = both(client, lambda fmt: url(f"requests/{a.reference}", fmt))
    assert_valid("requests", data)
    assert len(data) == 1 and data[0]["service_request_id"] == a.reference
    assert set(data[0]) == REQUEST_FIELDS
    listed_a = parse(client.get(url("requests", "json", service_request_id=a.reference)), "json")
    assert listed_a == data
    xml = client.get(url(f"requests/{a.reference}", "xml"))
    assert parse(xml, "xml", root="service_requests")[0]["service_request_id"] == a.reference
    # the path may name the reference loosely (lower case), it answers the canonical one
    loose = client.get(url(f"requests/{a.reference.lower()}", "json"))
    assert ids(parse(loose, "json")) == [a.reference]
    with_extensions = client.get(url(f"requests/{a.reference}", "json", extensions="true"))
    assert parse(with_extensions, "json")[0]["extended_attributes"]["channel"] == "web"


# --- tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_token_from_the_post_finds_the_request(client, catalog, fms, fmt):
    response = post_form(
        client,
        url("requests", fmt),
        {"api_key": fms.key, "service_code": "POTHOLE", "lat": INSIDE[0], "long": INSIDE[1]},
    )
    assert response.status_code == 201
    [created] = parse(response, fmt, root="service_requests")
    token = response["Open311-Token"]
    assert len(token) >= 20
    answer = client.get(url(f"tokens/{token}", fmt))
    assert answer.status_code == 200
    [item] = parse(answer, fmt, root="service_requests")
    assert item == {"service_request_id": created["service_request_id"], "token": token}


# --- servicerequestupdates (GET) ------------------------------------------------------------


def test_updates_list_the_public_status_changes(client, cases, personas):
    case_add_note(case_id=cases["a"].pk, text="Notă internă", actor=personas["staff"])
    data = both(client, lambda fmt: url("servicerequestupdates", fmt))
    by_case = {}
    for item in data:
        assert set(item) == {
            "update_id",
            "service_request_id",
            "status",
            "updated_datetime",
            "description",
            "media_url",
        }
        assert W3C.match(item["updated_datetime"])
        by_case.setdefault(item["service_request_id"], []).append(item)
    assert [(u["status"], u["description"]) for u in by_case[cases["a"].reference]] == [
        ("in_progress", "Echipa e pe drum.")
    ]
    assert [(u["status"], u["description"]) for u in by_case[cases["c"].reference]] == [
        ("fixed", "Am reparat.")
    ]
    assert cases["hidden"].reference not in by_case
    assert "Notă internă" not in client.get(url("servicerequestupdates", "xml")).content.decode()
    later = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    assert parse(client.get(url("servicerequestupdates", "json", start_date=later)), "json") == []


# --- the wire -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "resource", ["discovery", "services", "services/POTHOLE", "requests", "servicerequestupdates"]
)
def test_content_types(client, catalog, fmt, resource):
    response = client.get(url(resource, fmt))
    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPES[fmt]
    if fmt == "xml":
        assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    parse(response, fmt)


def test_format_suffix_is_not_case_sensitive_and_head_works(client, catalog):
    assert client.get(BASE + "services.JSON")["Content-Type"] == CONTENT_TYPES["json"]
    head = client.head(url("services", "xml"))
    assert head.status_code == 200 and head["Content-Type"] == CONTENT_TYPES["xml"]


def test_the_schemas_catch_what_they_should():
    """The schema checks above are not vacuous: the faults other servers make fail them."""
    from cetatea.open311.tests.support import schema_validator

    services = schema_validator("services")
    good = {"service_code": "A", "service_name": "A", "metadata": False, "type": "realtime"}
    assert services.is_valid([good])
    assert not services.is_valid([{**good, "metadata": "false"}])  # FixMyStreet's own fault
    requests = schema_validator("requests")
    item = {
        "service_request_id": "AB-2026-000001",
        "status": "open",
        "service_code": "POTHOLE",
        "requested_datetime": "2026-11-30T10:00:00+02:00",
    }
    assert requests.is_valid([item])
    assert not requests.is_valid([{**item, "service_request_id": 1}])
    assert not requests.is_valid([{**item, "lat": "46.07"}])
    assert not requests.is_valid([{**item, "status": "fixed"}])
