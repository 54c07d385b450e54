"""Every error of the Open311 interface, in both formats: the spec's status (400, 403 or
404), the spec's shape (errors/error/code,description; in JSON an array of {code,
description}), never a page, never a 500, and nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cetatea.cases.models import Case, CaseEvent
from cetatea.open311.models import ApiSubmission, ApiUpdate
from cetatea.open311.tests.support import BASE, FORMATS, errors, post_form, url
from conftest import INSIDE, make_case

pytestmark = pytest.mark.django_db

OUTSIDE = (44.43, 26.10)  # Bucharest, far from the city


def good(key: str, **changes) -> dict:
    data = {
        "api_key": key,
        "jurisdiction_id": "alba-iulia.ro",
        "service_code": "POTHOLE",
        "lat": str(INSIDE[0]),
        "long": str(INSIDE[1]),
        "description": "Groapă în drum",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def nothing_written(db):
    """Asserts, after the test, that no case, event, submission or update was written."""
    before = (
        Case.objects.count(),
        CaseEvent.objects.count(),
        ApiSubmission.objects.count(),
        ApiUpdate.objects.count(),
    )
    yield
    after = (
        Case.objects.count(),
        CaseEvent.objects.count(),
        ApiSubmission.objects.count(),
        ApiUpdate.objects.count(),
    )
    assert after == before


# --- POST requests ---------------------------------------------------------------------------

POST_ERRORS = {
    "missing key": (403, {"api_key": None}),
    "empty key": (403, {"api_key": "  "}),
    "bad key": (403, {"api_key": "not-a-key"}),
    "no service_code": (400, {"service_code": None}),
    "unknown service_code": (404, {"service_code": "NOPE"}),
    "inactive service_code": (404, {"service_code": "INFO_OFF"}),
    "outside the city": (400, {"lat": str(OUTSIDE[0]), "long": str(OUTSIDE[1])}),
    "lat without long": (400, {"long": None}),
    "long without lat": (400, {"lat": None}),
    "lat not a number": (400, {"lat": "north"}),
    "lat not finite": (400, {"lat": "nan"}),
    "lat out of range": (400, {"lat": "146.07"}),
    "no location": (400, {"lat": None, "long": None}),
    "address not a street": (400, {"lat": None, "long": None, "address_string": "Nicăieri 9"}),
    "address_id only": (400, {"lat": None, "long": None, "address_id": "123"}),
    "description too long": (400, {"description": "x" * 4001}),
    "media_url not http": (400, {"media_url": "ftp://example.com/a.jpg"}),
    "media_url javascript": (400, {"media_url": "javascript:alert(1)"}),
    "media_url relative": (400, {"media_url": "/a.jpg"}),
    "too many media_url": (400, {"media_url": [f"https://x.ro/{i}.jpg" for i in range(6)]}),
    "bad e-mail": (400, {"email": "not an address"}),
    "bad phone": (400, {"phone": "abc"}),
    "first_name too long": (400, {"first_name": "N" * 201}),
    "the whole name too long": (400, {"first_name": "N" * 150, "last_name": "P" * 150}),
    "title too long": (400, {"title": "T" * 121}),
    "idempotency-like device_id too long": (400, {"device_id": "d" * 201}),
    "malformed attribute": (400, {"attribute[a][b]": "1"}),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(POST_ERRORS))
def test_bad_posts_are_refused(client, catalog, fms, nothing_written, fmt, name):
    from cetatea.catalog.models import Category

    Category.objects.filter(code="INFO").update(code="INFO_OFF", is_active=False)
    status, changes = POST_ERRORS[name]
    response = post_form(client, url("requests", fmt), good(fms.key, **changes))
    errors(response, fmt, status)
    assert "Open311-Token" not in response


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_revoked_client_is_refused(client, catalog, fms, nothing_written, fmt):
    fms.app.revoke()
    fms.app.save()
    [error] = errors(post_form(client, url("requests", fmt), good(fms.key)), fmt, 403)
    assert error["code"] == "403"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_required_attribute(client, lamp, fms, nothing_written, fmt):
    body = good(fms.key, service_code="LAMP", **{"attribute[pole]": "S-12"})
    found = errors(post_form(client, url("requests", fmt), body), fmt, 400)
    assert [e["description"].split(":")[0] for e in found] == ["attribute[state]"]
    # a choice that is not offered, a number that is not one, two answers to one choice
    body = good(
        fms.key,
        service_code="LAMP",
        **{"attribute[state]": ["off", "blink"], "attribute[lamps]": "multe"},
    )
    found = errors(post_form(client, url("requests", fmt), body), fmt, 400)
    assert {e["description"].split(":")[0] for e in found} == {
        "attribute[pole]",
        "attribute[state]",
        "attribute[lamps]",
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_body_that_is_not_utf8(client, catalog, fms, nothing_written, fmt):
    raw = f"api_key={fms.key}&service_code=POTHOLE&lat=46.07&long=23.57&description=%C3%28"
    response = client.post(
        url("requests", fmt), raw.encode(), content_type="application/x-www-form-urlencoded"
    )
    [error] = errors(response, fmt, 400)
    assert "UTF-8" in error["description"]
    # raw bytes that are not UTF-8, not even percent-encoded
    response = client.post(
        url("requests", fmt),
        raw.replace("%C3%28", "").encode() + b"\xc3\x28",
        content_type="application/x-www-form-urlencoded",
    )
    errors(response, fmt, 400)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_body_in_another_charset(client, catalog, fms, nothing_written, fmt):
    from urllib.parse import urlencode

    body = urlencode(good(fms.key, description="Groapă"), encoding="iso-8859-2")
    response = client.post(
        url("requests", fmt),
        body,
        content_type="application/x-www-form-urlencoded; charset=iso-8859-1",
    )
    [error] = errors(response, fmt, 400)
    assert "UTF-8" in error["description"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_json_body_is_refused(client, catalog, fms, nothing_written, fmt):
    response = client.post(url("requests", fmt), good(fms.key), content_type="application/json")
    errors(response, fmt, 400)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_non_utf8_query_string(client, catalog, fms, nothing_written, fmt):
    response = client.post(
        url("requests", fmt) + "?jurisdiction_id=%FF",
        "",
        content_type="application/x-www-form-urlencoded",
    )
    errors(response, fmt, 400)
    errors(client.get(url("requests", fmt) + "?status=%FF"), fmt, 400)


# --- methods, paths, formats -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("method", "resource"),
    [
        ("delete", "requests"),
        ("put", "requests"),
        ("patch", "servicerequestupdates"),
        ("post", "services"),
        ("post", "discovery"),
        ("post", "services/POTHOLE"),
        ("post", "requests/AB-2026-000001"),
        ("post", "tokens/abc"),
        ("delete", "requests/AB-2026-000001"),
    ],
)
def test_wrong_methods(client, catalog, fms, nothing_written, fmt, method, resource):
    response = getattr(client, method)(
        url(resource, fmt),
        f"api_key={fms.key}",
        content_type="application/x-www-form-urlencoded",
    )
    [error] = errors(response, fmt, 400)
    assert error["code"] == "405"


@pytest.mark.parametrize(
    ("path", "status", "fmt"),
    [
        ("requests.csv", 400, "xml"),
        ("services.html", 400, "xml"),
        ("requests", 400, "xml"),
        ("services", 400, "xml"),
        ("services/POTHOLE", 400, "xml"),
        ("requests.", 400, "xml"),
        ("nothing.xml", 404, "xml"),
        ("nothing.json", 404, "json"),
        ("request/AB-2026-000001.json", 404, "json"),  # singular, as an old swagger has it
        ("discovery/extra.xml", 404, "xml"),
        ("servicerequestupdates/1.json", 404, "json"),
        ("tokens.json", 404, "json"),
        ("requests/a/b.json", 404, "json"),
        ("services/NOPE.xml", 404, "xml"),
        ("services/NOPE.json", 404, "json"),
        ("requests/AB-2026-999999.xml", 404, "xml"),
        ("requests/AB-2026-999999.json", 404, "json"),
        ("requests/not-a-reference.json", 404, "json"),
        ("tokens/no-such-token.xml", 404, "xml"),
        ("tokens/no-such-token.json", 404, "json"),
    ],
)
def test_unknown_paths_and_formats(client, catalog, path, status, fmt):
    errors(client.get(BASE + path), fmt, status)


def test_unknown_path_under_the_base_is_not_html(client):
    for path in ("/open311/v2/x", "/open311/v2/requests/%FF.json", "/open311/v2/../x.xml"):
        response = client.get(path)
        assert response.status_code in (400, 404), path
        assert b"<html" not in response.content.lower()
        assert response.content.startswith(b"<?xml") or response.content.startswith(b"[")


# --- GET requests: bad filters ---------------------------------------------------------------

LATER = "2026-06-01T00:00:00+03:00"
GET_ERRORS = {
    "start_date without time zone": {"start_date": "2026-05-01T00:00:00"},
    "end_date without time zone": {"end_date": "2026-05-01T10:00:00"},
    "a date with no time": {"start_date": "2026-05-01"},
    "a date that is not one": {"start_date": "yesterday"},
    "more than 90 days apart": {"start_date": "2026-01-01T00:00:00Z", "end_date": LATER},
    "end before start": {"start_date": LATER, "end_date": "2026-05-01T00:00:00Z"},
    "page_size 0": {"page_size": "0"},
    "page_size 100000": {"page_size": "100000"},
    "page_size abc": {"page_size": "abc"},
    "page 0": {"page": "0"},
    "page -1": {"page": "-1"},
    "status unknown": {"status": "pending"},
    "bbox malformed": {"bbox": "1,2,3"},
    "bbox inverted": {"bbox": "23.6,46.1,23.5,46.0"},
    "lat without long": {"lat": "46.07"},
    "radius without a point": {"radius": "100"},
    "radius too big": {"lat": "46.07", "long": "23.57", "radius": "50000000"},
    "lat not a number": {"lat": "x", "long": "23.57"},
    "updated_after without time zone": {"updated_after": "2026-05-01T00:00:00"},
    "too many ids": {"service_request_id": ",".join(f"AB-2026-{i:06d}" for i in range(1, 202))},
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(GET_ERRORS))
def test_bad_request_filters(client, catalog, fmt, name):
    make_case(publication="public", latitude=INSIDE[0], longitude=INSIDE[1])
    [error] = errors(client.get(url("requests", fmt, **GET_ERRORS[name])), fmt, 400)
    assert error["code"] == "400"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", ["start_date without time zone", "page_size 0", "page abc"])
def test_bad_update_filters(client, catalog, fmt, name):
    query = {**GET_ERRORS, "page abc": {"page": "abc"}}[name]
    errors(client.get(url("servicerequestupdates", fmt, **query)), fmt, 400)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_bad_key_on_a_read_is_refused(client, catalog, fmt):
    """A key is optional on reads; a wrong one is still a 403, not silently ignored."""
    errors(client.get(url("requests", fmt, api_key="wrong")), fmt, 403)
    errors(client.get(url("requests/AB-2026-000001", fmt, api_key="wrong")), fmt, 403)


# --- POST servicerequestupdates --------------------------------------------------------------


@pytest.fixture
def filed(client, catalog, fms):
    response = post_form(client, url("requests", "json"), good(fms.key))
    assert response.status_code == 201
    return Case.objects.get(reference=response.json()[0]["service_request_id"])


def update(key, case, **changes):
    data = {
        "api_key": key,
        "service_request_id": case.reference,
        "update_id": "u-1",
        "status": "FIXED",
        "updated_datetime": timezone.now().isoformat(),
        "description": "Rezolvat",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


UPDATE_ERRORS = {
    "no key": (403, {"api_key": None}),
    "bad key": (403, {"api_key": "wrong"}),
    "unknown request": (404, {"service_request_id": "AB-2026-999999"}),
    "no request id": (404, {"service_request_id": None}),
    "no update_id": (400, {"update_id": None}),
    "no status": (400, {"status": None}),
    "no description": (400, {"description": None}),
    "no updated_datetime": (400, {"updated_datetime": None}),
    "lower-case status": (400, {"status": "fixed"}),
    "update_id too long": (400, {"update_id": "u" * 201}),
    "update_id long for the log": (400, {"update_id": "u" * 199}),
    "unknown status": (400, {"status": "SOLVED"}),
    "datetime without zone": (400, {"updated_datetime": "2026-05-01T10:00:00"}),
    "datetime in the future": (
        400,
        {"updated_datetime": (timezone.now() + dt.timedelta(days=2)).isoformat()},
    ),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(UPDATE_ERRORS))
def test_bad_updates_are_refused(client, filed, fms, fmt, name):
    status, changes = UPDATE_ERRORS[name]
    before = (CaseEvent.objects.count(), ApiUpdate.objects.count())
    response = post_form(
        client, url("servicerequestupdates", fmt), update(fms.key, filed, **changes)
    )
    errors(response, fmt, status)
    assert (CaseEvent.objects.count(), ApiUpdate.objects.count()) == before
    assert Case.objects.get(pk=filed.pk).status == "new"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_repeated_update_id_already_exists(client, filed, fms, fmt):
    first = post_form(client, url("servicerequestupdates", fmt), update(fms.key, filed))
    assert first.status_code == 200
    before = (CaseEvent.objects.count(), ApiUpdate.objects.count())
    again = post_form(
        client, url("servicerequestupdates", fmt), update(fms.key, filed, status="OPEN")
    )
    [error] = errors(again, fmt, 400)
    assert "already exists" in error["description"]
    assert (CaseEvent.objects.count(), ApiUpdate.objects.count()) == before
    assert Case.objects.get(pk=filed.pk).status == "fixed"


@pytest.mark.parametrize("fmt", FORMATS)
def test_updates_to_a_private_case_of_another_client(client, lamp, fms, other_app, fmt):
    private = make_case(category="POTHOLE", latitude=INSIDE[0], longitude=INSIDE[1])
    response = post_form(client, url("servicerequestupdates", fmt), update(other_app.key, private))
    errors(response, fmt, 404)
    assert not ApiUpdate.objects.exists()


# --- the language of the errors ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_errors_follow_the_request_language(client, catalog, fmt):
    response = client.get(url("services/NOPE", fmt), HTTP_ACCEPT_LANGUAGE="en")
    [error] = errors(response, fmt, 404)
    assert error["description"] == "There is no service with the code NOPE."
    assert response["Content-Language"] == "en"
    response = client.get(url("requests", fmt, page_size="0"), HTTP_ACCEPT_LANGUAGE="en-GB,en")
    [error] = errors(response, fmt, 400)
    assert error["description"] == "page_size must be between 1 and 1000."
    assert response["Content-Language"] == "en"


def test_without_a_language_the_city_language_answers(client, catalog):
    response = client.get(url("services/NOPE", "json"))
    assert response["Content-Language"] == "ro"
