"""Property-based fuzzing of the Open311 interface against its OpenAPI document.

Schemathesis generates requests for every documented operation (valid and invalid
data) and drives the Django WSGI application directly, in the test database. Every
answer must be documented: a documented status code, ``text/xml`` or
``application/json`` (never an HTML page), a JSON body that matches the documented
schema, and an XML body that matches the same schema read the OpenAPI ``xml`` way. No
answer may be a server error, nor the spec's "general service error" (a 400 with code
500, which is how the view reports an exception it did not expect).

The generator's schema is the served document with a few values seeded in (``_seeded``)
so that a fair share of the requests reach the success paths: the catalogue's service
codes, the references and token of the fixture's requests, points inside the city and
short date windows. The responses are checked against the unmodified document.
"""

from __future__ import annotations

import copy
import datetime as dt
from xml.etree import ElementTree as ET

import jsonschema
import pytest
import schemathesis
import schemathesis.specs.openapi.checks
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings

from cetatea.cases.choices import Publication, Status
from cetatea.cases.services import case_add_note, case_change_status, case_reference
from cetatea.catalog.models import CategoryQuestion
from cetatea.open311.models import ApiClient, ApiSubmission
from cetatea.open311.openapi import openapi_document
from conftest import INSIDE, make_case

DOCUMENT = openapi_document()
TOKEN = "fuzz-token-0001"
YEAR = timezone.localdate().year
REFERENCES = [case_reference(YEAR, n) for n in (1, 2, 3)]
CODES = ["POTHOLE", "LEAK", "INFO"]
_now = timezone.localtime().replace(microsecond=0)
RECENT = [(_now - dt.timedelta(days=d)).isoformat() for d in (0, 1, 30)]


def _seeded() -> dict:
    """The document, with values the fixture knows put where the fuzzer would otherwise
    almost never reach a success (random service codes, references and tokens are all
    404s, random dates mostly span more than 90 days). Each list also has a value that
    is not found; negative cases still stray from them."""
    doc = copy.deepcopy(DOCUMENT)
    paths, schemas = doc["paths"], doc["components"]["schemas"]
    params = doc["components"]["parameters"]
    new = schemas["NewRequest"]["properties"]
    new["service_code"] = {"type": "string", "enum": [*CODES, "NOPE"]}
    # Points in and around the city: most fall inside it.
    new["lat"] = {"type": "number", "enum": [46.061, INSIDE[0], 46.0789, 46.2]}
    new["long"] = {"type": "number", "enum": [23.5612, INSIDE[1], 23.59, 23.7]}
    new["address_id"] = {"type": "string", "maxLength": 0}  # else it mostly hides 'lat'
    update = schemas["NewUpdate"]["properties"]
    update["service_request_id"] = {"type": "string", "enum": [*REFERENCES, "AB-1999-000001"]}
    update["updated_datetime"] = {"type": "string", "enum": RECENT}
    for name in ("start_date", "end_date"):
        params[name]["schema"] = {"type": "string", "enum": RECENT}

    def path_param(path: str, name: str, values: list) -> None:
        for param in paths[path]["get"]["parameters"]:
            if param.get("name") == name:
                param["schema"] = {"type": "string", "enum": values}

    path_param("/open311/v2/services/{service_code}.{format}", "service_code", [*CODES, "NOPE"])
    path_param("/open311/v2/requests/{service_request_id}.{format}", "service_request_id",
               [*REFERENCES, "AB-1999-000001", "ab2026000001"])  # fmt: skip
    path_param("/open311/v2/tokens/{token}.{format}", "token", [TOKEN, "no-such-token"])
    return doc


schema = schemathesis.openapi.from_dict(_seeded())
schema.app = WSGIHandler()


@pytest.fixture
def world(db, catalog):
    """Three public requests (one closed, one with a public reply), a question with
    choices, a submission with a known token, and a client key."""
    CategoryQuestion.objects.create(
        category=catalog["pothole"],
        code="depth",
        label_ro="Cât de adâncă?",
        datatype=CategoryQuestion.Datatype.SINGLE,
        choices=[{"key": "small", "name_ro": "Mică"}, {"key": "deep", "name_ro": "Adâncă"}],
    )
    client = ApiClient(name="fuzz")
    key = client.new_key()
    client.save()
    cases = [
        make_case(
            publication=Publication.PUBLIC,
            latitude=INSIDE[0],
            longitude=INSIDE[1],
            description=f"Groapa {n}",
            category=code,
        )
        for n, code in enumerate(("POTHOLE", "LEAK", "POTHOLE"), start=1)
    ]
    assert [c.reference for c in cases] == REFERENCES
    case_change_status(case_id=cases[1].pk, status=Status.FIXED, actor=None, text="Reparat.")
    case_add_note(case_id=cases[2].pk, text="Venim mâine.", actor=None, public=True)
    ApiSubmission.objects.create(client=client, case=cases[0], token=TOKEN, content_hash="0" * 64)
    # As Django's test client does: the end of a request must not close the connection
    # that holds the test's transaction (PostgreSQL would lose it).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield {"key": key, "cases": cases}
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# --- checks of our own ---------------------------------------------------------------------


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = DOCUMENT["components"][section][name]
    return node


def _documented(case, status: int) -> dict | None:
    responses = DOCUMENT["paths"][case.operation.path][case.method.lower()]["responses"]
    found = responses.get(str(status))
    return _resolve(found) if found else None


def _types(schema: dict) -> set[str]:
    kind = schema.get("type", "string")
    return set(kind) if isinstance(kind, list) else {kind}


def _from_xml(element: ET.Element, schema: dict):
    """The value an XML element carries, read by its OpenAPI schema (the ``xml`` hints)."""
    schema = _resolve(schema)
    kinds = _types(schema)
    if "array" in kinds:
        item = _resolve(schema["items"])
        name = item.get("xml", {}).get("name")
        assert all(child.tag == name for child in element), (element.tag, name)
        return [_from_xml(child, item) for child in element]
    if "object" in kinds:
        properties = schema.get("properties", {})
        value = {}
        for child in element:
            assert child.tag not in value, f"<{child.tag}> twice in <{element.tag}>"
            value[child.tag] = _from_xml(child, properties.get(child.tag, {}))
        return value
    assert len(element) == 0, f"<{element.tag}> should hold text only"
    text = element.text or ""
    if text == "" and "null" in kinds:
        return None
    if "boolean" in kinds:
        assert text in ("true", "false"), (element.tag, text)
        return text == "true"
    if "integer" in kinds:
        return int(text)
    if "number" in kinds:
        return float(text)
    return text


def open311_conformance(ctx, response, case):
    """XML answers match the documented schema; no answer hides an unexpected error."""
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type in ("text/xml; charset=utf-8", "application/json; charset=utf-8"), (
        content_type
    )
    if case.operation.path.endswith("openapi.json"):
        return None
    if case.method.lower() not in DOCUMENT["paths"][case.operation.path]:
        # Another method (schemathesis tries TRACE, DELETE…): the spec's 400, code 405.
        assert response.status_code == 400, response.status_code
        return None
    documented = _documented(case, response.status_code)
    assert documented is not None, response.status_code
    if response.status_code >= 400:
        body = response.content
        errors = (
            response.json()
            if content_type.startswith("application/json")
            else [int(e.findtext("code")) for e in ET.fromstring(body)]  # noqa: S314 - our answer
        )
        codes = [e["code"] if isinstance(e, dict) else e for e in errors]
        assert 500 not in codes, f"the service failed: {body[:300]!r}"
    if content_type.startswith("text/xml"):
        text = response.content.decode("utf-8")
        assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n'), text[:60]
        root = ET.fromstring(response.content)  # noqa: S314 - our own answer
        schema = _resolve(documented["content"]["text/xml"]["schema"])
        assert root.tag == schema["xml"]["name"], (root.tag, schema["xml"])
        value = _from_xml(root, schema)
        validator = jsonschema.Draft202012Validator(
            {**schema, "components": DOCUMENT["components"]},
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        errors = sorted(validator.iter_errors(value), key=str)
        assert not errors, f"{errors[0].message} at {list(errors[0].absolute_path)}"
    return None


# --- the fuzz test -------------------------------------------------------------------------

EXCLUDED = [
    # Valid by the schema is not enough for these rules, which the code enforces and the
    # document states in words: a date window of at most 90 days, an address that is a
    # street of the city, a point inside the city, an update time not in the future.
    schemathesis.checks.positive_data_acceptance,
    # A method the resource does not have is answered as the spec's errors are: HTTP 400
    # (with error code 405), not HTTP 405 with an Allow header.
    schemathesis.specs.openapi.checks.unsupported_method,
    schemathesis.specs.openapi.checks.allow_header_conformance,
]


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_open311_conforms_to_its_openapi_document(case, world):
    key = world["key"]
    if case.method == "POST":
        case.query = {**(case.query or {}), "api_key": key}
        if isinstance(case.body, dict):
            # The key goes in the query string, where the document's security scheme puts
            # it (so schemathesis can check that a request without it is refused); the
            # body field, which takes precedence, is tested in test_openapi.py.
            case.body.pop("api_key", None)
    elif case.query and case.query.get("api_key"):
        # Mostly the valid key (more is visible); otherwise a wrong one (a 403).
        if len(str(case.query["api_key"])) % 3:
            case.query["api_key"] = key
    excluded = list(EXCLUDED)
    if case.method == "POST" or (case.query or {}).get("service_request_id"):
        # A form field is text: a number, an object or a list "of the wrong type" reaches
        # the server as valid text. And the spec: a list of ids overrides every other
        # argument of GET requests, even a malformed one.
        excluded.append(schemathesis.checks.negative_data_rejection)
    case.call_and_validate(additional_checks=[open311_conformance], excluded_checks=excluded)
