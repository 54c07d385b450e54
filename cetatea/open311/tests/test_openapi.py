"""The OpenAPI document against the code: every resource the view serves is documented,
with the methods it allows, and every documented answer of every operation is one the
code really gives, with a body of the documented shape (JSON and XML)."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from django.test import override_settings
from django.utils import timezone
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from cetatea.cases.choices import Publication
from cetatea.open311 import openapi, selectors, services, views
from cetatea.open311.openapi import openapi_document
from cetatea.open311.tests.conftest import make_api_client
from conftest import INSIDE, make_case

BASE = "/open311/v2"
METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "trace"}


def _document(client) -> dict:
    response = client.get(f"{BASE}/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def _served_shapes() -> set[str]:
    """The URL shapes the view answers, read from its own path pattern."""
    resources = re.search(r"\(\?P<resource>([\w|]+)\)", views._PATH.pattern).group(1)
    shapes = {f"{BASE}/", f"{BASE}/openapi.json", f"{BASE}/index.{{format}}"}
    ident = {"services": "service_code", "requests": "service_request_id", "tokens": "token"}
    for resource in resources.split("|"):
        if resource != "tokens":  # a token is always in the address
            shapes.add(f"{BASE}/{resource}.{{format}}")
        if resource in views._RESOURCES_WITH_ID:
            shapes.add(f"{BASE}/{resource}/{{{ident[resource]}}}.{{format}}")
    return shapes


def test_the_served_document_is_valid_openapi_and_lists_every_path(client, settings):
    settings.CETATEA_SITE_URL = "https://crm.example.ro/"
    document = _document(client)
    OPENAPI_31_VALIDATOR.validate(document)
    assert document == json.loads(json.dumps(openapi_document()))
    assert document["servers"] == [{"url": "https://crm.example.ro"}]
    assert set(document["paths"]) == _served_shapes()
    methods = {path: set(item) & METHODS for path, item in document["paths"].items()}
    assert methods == {
        path: {"get", "post"}
        if path.endswith(("/requests.{format}", "/servicerequestupdates.{format}"))
        else {"get"}
        for path in _served_shapes()
    }
    for path, item in document["paths"].items():
        for operation in (item[m] for m in methods[path]):
            for parameter in operation.get("parameters", []):
                if "$ref" in parameter:
                    parameter = document["components"]["parameters"][
                        parameter["$ref"].split("/")[-1]
                    ]
                if parameter["in"] == "path":
                    assert "{" + parameter["name"] + "}" in path


def test_the_documented_limits_are_the_enforced_ones():
    assert openapi.MAX_PAGE_SIZE == selectors.MAX_PAGE_SIZE
    assert openapi.MAX_RADIUS_M == selectors.MAX_RADIUS_M
    assert openapi.MAX_IDS == selectors.MAX_IDS
    assert openapi.MAX_MEDIA_URLS == services.MAX_MEDIA_URLS
    statuses = openapi_document()["components"]["schemas"]["NewUpdate"]["properties"]["status"]
    assert statuses["enum"] == list(services.FMS_TO_STATUS)


@pytest.mark.parametrize(
    "method,path",
    [
        ("post", "services.xml"),
        ("put", "requests.json"),
        ("delete", "requests/AB-2026-000001.json"),
        ("post", "tokens/x.xml"),
        ("post", "discovery.json"),
        ("post", ""),
        ("post", "openapi.json"),
    ],
)
def test_an_undocumented_method_is_the_specs_400(client, method, path):
    response = getattr(client, method)(f"{BASE}/{path}")
    assert response.status_code == 400
    body = response.content.decode()
    assert "<code>405</code>" in body or '"code":405' in body


# --- every documented answer, for real -----------------------------------------------------


@pytest.fixture
def world(catalog):
    keyed = make_api_client("docs")
    cases = [
        make_case(
            publication=Publication.PUBLIC,
            latitude=INSIDE[0],
            longitude=INSIDE[1],
            description="Groapă mare",
        )
        for _ in range(2)
    ]
    return {"key": keyed.key, "ref": cases[0].reference}


def _examples(world) -> list[tuple]:
    """(method, path, operation path, query, form body, headers, status)"""
    key, ref = world["key"], world["ref"]
    now = timezone.localtime().replace(microsecond=0).isoformat()
    new = {"service_code": "POTHOLE", "lat": str(INSIDE[0]), "long": str(INSIDE[1])}
    update = {
        "service_request_id": ref,
        "update_id": "fms-1",
        "status": "INVESTIGATING",
        "updated_datetime": now,
        "description": "Ne uităm.",
    }
    return [
        ("get", "/", "/", {}, None, {}, 200),
        ("get", "/openapi.json", "/openapi.json", {}, None, {}, 200),
        ("get", "/discovery.{f}", "/discovery.{format}", {}, None, {}, 200),
        ("get", "/index.{f}", "/index.{format}", {}, None, {}, 200),
        ("get", "/discovery.{f}", "/discovery.{format}", {"api_key": "x"}, None, {}, 200),
        ("get", "/discovery.{f}x", "/discovery.{format}", {}, None, {}, 400),
        ("get", "/index.{f}x", "/index.{format}", {}, None, {}, 400),
        ("get", "/services.{f}", "/services.{format}", {}, None, {}, 200),
        ("get", "/services.{f}x", "/services.{format}", {}, None, {}, 400),
        ("get", "/services/POTHOLE.{f}", "/services/{service_code}.{format}", {}, None, {}, 200),
        ("get", "/services/NOPE.{f}", "/services/{service_code}.{format}", {}, None, {}, 404),
        ("get", "/services/POTHOLE.{f}x", "/services/{service_code}.{format}", {}, None, {}, 400),
        ("get", "/requests.{f}", "/requests.{format}", {"extensions": "true"}, None, {}, 200),
        ("get", "/requests.{f}", "/requests.{format}", {"page_size": "0"}, None, {}, 400),
        ("get", "/requests.{f}", "/requests.{format}", {"api_key": "wrong"}, None, {}, 403),
        ("get", f"/requests/{ref}.{{f}}", "/requests/{service_request_id}.{format}",
         {"extensions": "true", "api_key": key}, None, {}, 200),
        ("get", "/requests/AB-1999-000001.{f}", "/requests/{service_request_id}.{format}",
         {}, None, {}, 404),
        ("get", f"/requests/{ref}.{{f}}", "/requests/{service_request_id}.{format}",
         {"api_key": "wrong"}, None, {}, 403),
        ("get", f"/requests/{ref}.{{f}}x", "/requests/{service_request_id}.{format}",
         {}, None, {}, 400),
        ("get", "/tokens/none.{f}", "/tokens/{token}.{format}", {}, None, {}, 404),
        ("get", "/tokens/none.{f}x", "/tokens/{token}.{format}", {}, None, {}, 400),
        ("get", "/servicerequestupdates.{f}", "/servicerequestupdates.{format}", {}, None, {},
         200),
        ("get", "/servicerequestupdates.{f}", "/servicerequestupdates.{format}",
         {"start_date": "2026-01-01"}, None, {}, 400),
        ("get", "/servicerequestupdates.{f}", "/servicerequestupdates.{format}",
         {"api_key": "wrong"}, None, {}, 403),
        ("post", "/requests.{f}", "/requests.{format}", {}, {**new, "api_key": key},
         {"HTTP_IDEMPOTENCY_KEY": "k-{f}"}, 201),
        ("post", "/requests.{f}", "/requests.{format}", {}, {**new, "api_key": key},
         {"HTTP_IDEMPOTENCY_KEY": "k-{f}"}, 200),
        ("get", "/tokens/{token}.{f}", "/tokens/{token}.{format}", {}, None, {}, 200),
        ("post", "/requests.{f}", "/requests.{format}", {}, {**new, "lat": "1"}, {}, 403),
        ("post", "/requests.{f}", "/requests.{format}", {"api_key": key}, {**new, "lat": "x"},
         {}, 400),
        ("post", "/requests.{f}", "/requests.{format}", {"api_key": key},
         {**new, "service_code": "NOPE"}, {}, 404),
        ("post", "/servicerequestupdates.{f}", "/servicerequestupdates.{format}",
         {"api_key": key}, {**update, "update_id": "u-{f}"}, {}, 200),
        ("post", "/servicerequestupdates.{f}", "/servicerequestupdates.{format}",
         {"api_key": key}, {**update, "update_id": "u-{f}"}, {}, 400),
        ("post", "/servicerequestupdates.{f}", "/servicerequestupdates.{format}",
         {"api_key": "wrong"}, update, {}, 403),
        ("post", "/servicerequestupdates.{f}", "/servicerequestupdates.{format}",
         {"api_key": key}, {**update, "service_request_id": "AB-1999-000001"}, {}, 404),
    ]  # fmt: skip


def _resolve(document: dict, node: dict) -> dict:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = document["components"][section][name]
    return node


def _fill(value, fmt: str):
    if isinstance(value, dict):
        return {k: _fill(v, fmt) for k, v in value.items()}
    return value.replace("{f}", fmt) if isinstance(value, str) else value


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_every_documented_answer_is_given_as_documented(client, world, fmt):
    document = openapi_document()
    seen: set[tuple[str, str, str]] = set()
    token = None  # from the answer to the POST that files a request
    for method, url, shape, query, body, headers, status in _examples(world):
        url, query, body, headers = (_fill(v, fmt) for v in (url, query, body, headers))
        url = url.replace("{token}", str(token))
        if method == "get":
            response = client.get(BASE + url, query, **headers)
        else:
            target = BASE + url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()))
            response = client.post(target, body, **headers)
        assert response.status_code == status, (method, url, query, response.content)
        operation = document["paths"][BASE + shape][method]
        answer = _resolve(document, operation["responses"][str(status)])
        seen.add((BASE + shape, method, str(status)))
        content_type = response["Content-Type"].split(";")[0]
        assert content_type in answer["content"], (url, content_type)
        schema = answer["content"][content_type]["schema"]
        validator = jsonschema.Draft202012Validator(
            {**schema, "components": document["components"]},
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        if content_type == "application/json":
            validator.validate(json.loads(response.content))
        else:
            root = ET.fromstring(response.content)  # noqa: S314 - our own answer
            assert root.tag == _resolve(document, schema)["xml"]["name"]
        if "Open311-Token" in answer.get("headers", {}):
            token = response["Open311-Token"]
    seen |= _rate_limited_answers(client, document, fmt)
    documented = {
        (path, method, code)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
        for code in operation["responses"]
    }
    assert seen == documented, sorted(documented - seen)


def _rate_limited_answers(client, document: dict, fmt: str) -> set[tuple[str, str, str]]:
    """Every operation past its rate limit (counters already full): 429 in the error
    shape (cetatea/core/tests/test_rate_limits.py)."""
    seen = set()
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "saturated": {"BACKEND": "cetatea.core.tests.test_rate_limits.SaturatedCache"},
    }
    with override_settings(CACHES=caches, RATELIMIT_USE_CACHE="saturated"):
        for path, item in document["paths"].items():
            for method in set(item) & METHODS:
                url = re.sub(r"\{(?!format)[a-z_]+\}", "x", path).replace("{format}", fmt)
                response = getattr(client, method)(url)
                assert response.status_code == 429, (method, url)
                answer = _resolve(document, item[method]["responses"]["429"])
                content_type = response["Content-Type"].split(";")[0]
                assert content_type in answer["content"], (url, content_type)
                seen.add((path, method, "429"))
    return seen


def test_the_key_in_the_body_counts_before_the_one_in_the_query(client, world):
    new = {"service_code": "POTHOLE", "lat": str(INSIDE[0]), "long": str(INSIDE[1])}
    good = client.post(f"{BASE}/requests.json?api_key=wrong", {**new, "api_key": world["key"]})
    assert good.status_code == 201
    refused = client.post(
        f"{BASE}/requests.json?api_key={world['key']}", {**new, "api_key": "wrong"}
    )
    assert refused.status_code == 403


def test_a_next_page_is_announced_in_a_link_header(client, world):
    first = client.get(f"{BASE}/requests.json", {"page_size": "1", "status": "open"})
    assert first.status_code == 200
    assert first["Link"] == (f'<{BASE}/requests.json?page_size=1&status=open&page=2>; rel="next"')
    last = client.get(f"{BASE}/requests.json", {"page_size": "1", "page": "2"})
    assert len(json.loads(last.content)) == 1
    assert "Link" not in last
