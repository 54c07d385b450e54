"""Helpers of the Open311 contract tests: post like a client, read either format into the
same plain data, check the community JSON Schemas."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest

BASE = "/open311/v2/"
FORMATS = ("xml", "json")
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$")
# Where the community schemas (open311/schema-validation) are kept; not in the repository.
# The community schemas: $CETATEA_OPEN311_SCHEMAS, else the team's shared folder beside
# the checkout, else where it lives on the team's machines.
_CANDIDATES = [
    os.environ.get("CETATEA_OPEN311_SCHEMAS", ""),
    str(Path(__file__).resolve().parents[3].parent / "shared" / "open311-schemas"),
    "/work/shared/open311-schemas",
]
SCHEMAS = next((Path(c) for c in _CANDIDATES if c and Path(c).is_dir()), Path(_CANDIDATES[-1]))

# XML elements that hold a list (the JSON has an array there).
LISTS = {
    "services",
    "attributes",
    "values",
    "service_requests",
    "service_request_updates",
    "errors",
    "endpoints",
    "formats",
    "photos",
    "notes",
    "media_urls",
}


def url(resource: str, fmt: str | None = None, **query) -> str:
    path = BASE + resource + (f".{fmt}" if fmt else "")
    return path + ("?" + urlencode(query, doseq=True) if query else "")


def post_form(client, path: str, data, **extra):
    """A form-encoded POST (what FixMyStreet and the spec send), lists as repeated fields."""
    return client.post(
        path,
        urlencode(data, doseq=True),
        content_type="application/x-www-form-urlencoded",
        **extra,
    )


def xml_root(body: bytes) -> ET.Element:
    return ET.fromstring(body)  # noqa: S314 - the answer of our own server, in a test


def _from_xml(element: ET.Element):
    if element.tag in LISTS:
        return [_from_xml(child) for child in element] or ""
    if len(element):
        return {child.tag: _from_xml(child) for child in element}
    return element.text or ""


def _as_text(value):
    """JSON data as the XML would carry it: text everywhere, empty lists and null as ""."""
    if isinstance(value, dict):
        return {k: _as_text(v) for k, v in value.items()} or ""
    if isinstance(value, list):
        return [_as_text(v) for v in value] or ""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def parse(response, fmt: str, *, root: str | None = None):
    """The body as plain data, after checking the wire format: the content type, the XML
    declaration and root element, never HTML. XML leaves are text; JSON keeps its types."""
    assert response["Content-Type"] == CONTENT_TYPES[fmt], response["Content-Type"]
    body = response.content
    assert b"<html" not in body.lower()
    if fmt == "json":
        return json.loads(body.decode("utf-8"))
    assert body.startswith(XML_DECLARATION + b"\n"), body[:60]
    element = xml_root(body)
    if root is not None:
        assert element.tag == root, element.tag
    return _from_xml(element)


def text(response, fmt: str, *, root: str | None = None):
    """The body as text-only data, the same shape for both formats."""
    data = parse(response, fmt, root=root)
    return _as_text(data) if fmt == "json" else data


def errors(response, fmt: str, status: int) -> list[dict]:
    """The spec's error document, checked: ``errors/error/{code, description}``."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    data = parse(response, fmt, root="errors")
    assert isinstance(data, list) and data, data
    for item in data:
        assert set(item) == {"code", "description"}, item
        assert item["description"], item
        if fmt == "json":
            assert isinstance(item["code"], int | str)
    return _as_text(data) if fmt == "json" else data


def schema_validator(name: str):
    """A validator for one of the community schemas; ``name`` "requests" etc. The list
    schemas are only ``{"type": "array", "items": {"$ref": ...}}``: refs resolve to the
    files next to them."""
    jsonschema = pytest.importorskip("jsonschema")
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    if not SCHEMAS.is_dir():
        pytest.skip(f"the Open311 JSON Schemas are not at {SCHEMAS}")
    registry = Registry()
    for path in SCHEMAS.glob("*.json"):
        if path.name == "swagger.json":
            continue
        contents = json.loads(path.read_text(encoding="utf-8"))
        registry = registry.with_resource(
            path.name, Resource.from_contents(contents, default_specification=DRAFT4)
        )
    schema = registry[f"{name}.json"].contents
    return jsonschema.Draft4Validator(
        schema, registry=registry, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )


def assert_valid(name: str, data) -> None:
    validator = schema_validator(name)
    problems = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    assert not problems, [f"{list(e.path)}: {e.message}" for e in problems]
