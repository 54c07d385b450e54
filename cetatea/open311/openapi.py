"""The OpenAPI 3.1 description of the Open311 interface (served at ``openapi.json``).

It describes what ``views``, ``selectors`` and ``services`` really do: the limits are
the ones the code enforces, the status codes the ones it returns. JSON and XML share one
schema each; the ``xml`` hints name the elements of the XML form (the spec's "Spark"
mapping: in XML every value is text, ``true``/``false`` for booleans and an empty
element for a missing value). ``cetatea/open311/tests/test_fuzz.py`` fuzzes the
interface against this document, so a change to either must keep them in agreement.
"""

from __future__ import annotations

from django.conf import settings

from cetatea.cases.choices import FIXMYSTREET_STATUS
from cetatea.open311.services import FMS_TO_STATUS

BASE = "/open311/v2"
FORMATS = ["xml", "json"]
JSON = "application/json"
XML = "text/xml"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"

# Kept equal to the limits in selectors.py and services.py (a test checks them).
MAX_PAGE = 100_000
MAX_PAGE_SIZE = 1000
MAX_RADIUS_M = 20_000
MAX_IDS = 200
MAX_MEDIA_URLS = 5

# What services._media_urls accepts: an http(s) address with a host, no space inside
# (blanks around it are trimmed).
MEDIA_URL_PATTERN = r"^\s*[Hh][Tt][Tt][Pp][Ss]?://[^/?#\s]+[^\s]*\s*$"
ATTRIBUTE_PATTERN = r"^attribute\[[^\[\]]+\](\[\])?$"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    nullable = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        nullable["enum"] = [*schema["enum"], None]
    return nullable


DATETIME = {
    "type": "string",
    "format": "date-time",
    "description": "W3C date and time with its offset, in the city's time zone.",
    "example": "2026-11-30T10:00:00+02:00",
}
DATETIME_IN = {
    "type": "string",
    "format": "date-time",
    "description": "W3C date and time that must carry a time zone (`Z` or `+02:00`).",
    "example": "2026-11-30T10:00:00+02:00",
}


# --- parameters --------------------------------------------------------------------------------


def _query(name: str, schema: dict, description: str, **extra) -> dict:
    """An optional query parameter: sent empty, it is as if it were not sent (the spec)."""
    return {"name": name, "in": "query", "required": False, "allowEmptyValue": True,
            "schema": schema, "description": description, **extra}  # fmt: skip


def _parameters() -> dict:
    return {
        "format": {
            "name": "format",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": FORMATS},
            "description": "The answer's format: `xml` (`text/xml`) or `json` "
            "(`application/json`). Any other suffix is a 400 in XML.",
        },
        "jurisdiction_id": _query(
            "jurisdiction_id",
            {"type": "string"},
            "Accepted and ignored: this endpoint serves one city.",
        ),
        "api_key_optional": _query(
            "api_key",
            {"type": "string"},
            "Optional on reads. With a valid key the answer also includes the client's own "
            "requests that are not on the public map; an unknown or revoked key is a 403.",
        ),
        "extensions": _query(
            "extensions",
            {"type": "string", "examples": ["true", "false"]},
            "`true` (in any case; anything else counts as false) adds `title` and "
            "`extended_attributes` (detailed status, channel, area, supporters, link, photos, "
            "public history) to each request.",
        ),
        "page": _query(
            "page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
            "Page of the results (GeoReport v2 paging extension). When another page "
            'follows, the answer carries a `Link: <…>; rel="next"` header.',
        ),
        "page_size": _query(
            "page_size",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_PAGE_SIZE,
                "default": MAX_PAGE_SIZE,
            },  # fmt: skip
            "Results per page.",
        ),
        "start_date": _query(
            "start_date",
            DATETIME_IN,
            "Earliest date and time (inclusive). With `end_date` the span may be at most "
            "90 days, and `end_date` may not be before it (400 otherwise). Alone, the "
            "window is the 90 days after it.",
        ),
        "end_date": _query(
            "end_date",
            DATETIME_IN,
            "Latest date and time (inclusive). Alone, the window is the 90 days before it.",
        ),
    }


def _p(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


# --- schemas -----------------------------------------------------------------------------------


def _schemas() -> dict:
    fms_statuses = sorted(set(FIXMYSTREET_STATUS.values()) | {"unchanged"})
    return {
        "Error": {
            "type": "object",
            "xml": {"name": "error"},
            "required": ["code", "description"],
            "properties": {
                "code": {
                    "type": "integer",
                    "description": "The HTTP status, or a finer code: `405` for a wrong "
                    "method (sent with HTTP 400), `500` when the service could not answer "
                    "(sent with HTTP 400, as the spec asks).",
                },
                "description": {"type": "string"},
            },
        },
        "Errors": {
            "type": "array",
            "xml": {"name": "errors", "wrapped": True},
            "minItems": 1,
            "items": _ref("Error"),
        },
        "Discovery": {
            "type": "object",
            "xml": {"name": "discovery"},
            "required": ["changeset", "contact", "key_service", "endpoints"],
            "properties": {
                "changeset": DATETIME,
                "contact": {"type": "string"},
                "key_service": {"type": "string"},
                "endpoints": {
                    "type": "array",
                    "xml": {"wrapped": True},
                    "items": {
                        "type": "object",
                        "xml": {"name": "endpoint"},
                        "required": ["specification", "url", "changeset", "type", "formats"],
                        "properties": {
                            "specification": {"type": "string", "format": "uri"},
                            "url": {"type": "string", "format": "uri"},
                            "changeset": DATETIME,
                            "type": {"type": "string", "description": "production or test"},
                            "formats": {
                                "type": "array",
                                "xml": {"wrapped": True},
                                "items": {
                                    "type": "string",
                                    "enum": [XML, JSON],
                                    "xml": {"name": "format"},
                                },
                            },
                        },
                    },
                },
            },
        },
        "Service": {
            "type": "object",
            "xml": {"name": "service"},
            "required": [
                "service_code",
                "service_name",
                "description",
                "metadata",
                "type",
                "keywords",
                "group",
            ],
            "properties": {
                "service_code": {"type": "string"},
                "service_name": {"type": "string", "description": "Romanian name."},
                "description": {"type": "string"},
                "metadata": {
                    "type": "boolean",
                    "description": "`true` when the service has questions "
                    "(`services/{service_code}`).",
                },
                "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
                "keywords": {"type": "string", "description": "Comma-separated."},
                "group": {
                    "type": "string",
                    "description": "The department or outside operator that handles it.",
                },
            },
        },
        "Services": {
            "type": "array",
            "xml": {"name": "services", "wrapped": True},
            "items": _ref("Service"),
        },
        "ServiceDefinition": {
            "type": "object",
            "xml": {"name": "service_definition"},
            "required": ["service_code", "attributes"],
            "properties": {
                "service_code": {"type": "string"},
                "attributes": {
                    "type": "array",
                    "xml": {"wrapped": True},
                    "items": {
                        "type": "object",
                        "xml": {"name": "attribute"},
                        "required": [
                            "variable",
                            "code",
                            "datatype",
                            "required",
                            "datatype_description",
                            "order",
                            "description",
                        ],
                        "properties": {
                            "variable": {"type": "boolean"},
                            "code": {"type": "string"},
                            "datatype": {
                                "type": "string",
                                "enum": [
                                    "string",
                                    "text",
                                    "number",
                                    "singlevaluelist",
                                    "multivaluelist",
                                ],
                            },
                            "required": {"type": "boolean"},
                            "datatype_description": {"type": "string"},
                            "order": {"type": "integer", "minimum": 1},
                            "description": {"type": "string"},
                            "values": {
                                "type": "array",
                                "xml": {"wrapped": True},
                                "items": {
                                    "type": "object",
                                    "xml": {"name": "value"},
                                    "required": ["key", "name"],
                                    "properties": {
                                        "key": {"type": "string"},
                                        "name": {"type": "string"},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
        "ServiceRequest": {
            "type": "object",
            "xml": {"name": "request"},
            "description": "A request as the public sees it: no names, contact details, "
            "internal notes or hidden requests.",
            "required": [
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
            ],
            "properties": {
                "service_request_id": {"type": "string", "example": "AB-2026-000123"},
                "status": {"type": "string", "enum": ["open", "closed"]},
                "status_notes": _nullable(
                    {"type": "string", "description": "The latest public status note."}
                ),
                "service_name": {"type": "string"},
                "service_code": {"type": "string"},
                "description": {"type": "string"},
                "agency_responsible": _nullable({"type": "string"}),
                "service_notice": _nullable({"type": "string"}),
                "requested_datetime": DATETIME,
                "updated_datetime": {
                    **DATETIME,
                    "description": "Last change; for a closed request, when it was closed.",
                },
                "expected_datetime": _nullable(
                    {**DATETIME, "description": "Due time of an open request."}
                ),
                "address": _nullable({"type": "string"}),
                "address_id": {"type": "null"},
                "zipcode": {"type": "null"},
                "lat": _nullable({"type": "number", "minimum": -90, "maximum": 90}),
                "long": _nullable({"type": "number", "minimum": -180, "maximum": 180}),
                "media_url": _nullable(
                    {
                        "type": "string",
                        "format": "uri",
                        "description": "The first public photo, or the first media_url the "
                        "client sent.",
                    }
                ),
                "title": {"type": "string", "description": "With `extensions=true`."},
                "extended_attributes": {
                    "type": "object",
                    "description": "With `extensions=true`.",
                    "required": [
                        "channel",
                        "detailed_status",
                        "area",
                        "supporters",
                        "url",
                        "photos",
                        "notes",
                    ],
                    "properties": {
                        "channel": {"type": "string"},
                        "detailed_status": {
                            "type": "string",
                            "enum": sorted(set(FIXMYSTREET_STATUS.values())),
                        },
                        "area": _nullable({"type": "string"}),
                        "supporters": {"type": "integer", "minimum": 0},
                        "url": {"type": "string", "format": "uri"},
                        "photos": {
                            "type": "array",
                            "xml": {"wrapped": True},
                            "items": {
                                "type": "object",
                                "xml": {"name": "photo"},
                                "properties": {
                                    "media_url": {"type": "string", "format": "uri"},
                                    "thumbnail_url": _nullable({"type": "string", "format": "uri"}),
                                    "title": {"type": "string"},
                                    "width": _nullable({"type": "integer"}),
                                    "height": _nullable({"type": "integer"}),
                                    "created_at": DATETIME,
                                },
                            },
                        },
                        "notes": {
                            "type": "array",
                            "xml": {"wrapped": True},
                            "items": {
                                "type": "object",
                                "xml": {"name": "note"},
                                "properties": {
                                    "datetime": DATETIME,
                                    "type": {"type": "string"},
                                    "status": _nullable(
                                        {"type": "string", "enum": ["open", "closed"]}
                                    ),
                                    "description": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
        "ServiceRequests": {
            "type": "array",
            "xml": {"name": "service_requests", "wrapped": True},
            "items": _ref("ServiceRequest"),
        },
        "CreatedRequests": {
            "type": "array",
            "xml": {"name": "service_requests", "wrapped": True},
            "minItems": 1,
            "maxItems": 1,
            "items": {
                "type": "object",
                "xml": {"name": "request"},
                "required": ["service_request_id"],
                "properties": {
                    "service_request_id": {"type": "string"},
                    "service_notice": {"type": "string"},
                    "account_id": {"type": "string"},
                },
            },
        },
        "TokenRequests": {
            "type": "array",
            "xml": {"name": "service_requests", "wrapped": True},
            "minItems": 1,
            "maxItems": 1,
            "items": {
                "type": "object",
                "xml": {"name": "request"},
                "required": ["service_request_id", "token"],
                "properties": {
                    "service_request_id": {"type": "string"},
                    "token": {"type": "string"},
                },
            },
        },
        "RequestUpdates": {
            "type": "array",
            "xml": {"name": "service_request_updates", "wrapped": True},
            "items": {
                "type": "object",
                "xml": {"name": "request_update"},
                "required": [
                    "update_id",
                    "service_request_id",
                    "status",
                    "updated_datetime",
                    "description",
                    "media_url",
                ],
                "properties": {
                    "update_id": {"type": "string"},
                    "service_request_id": {"type": "string"},
                    "status": {
                        "type": "string",
                        "enum": fms_statuses,
                        "description": "FixMyStreet's lower-case extended status; "
                        "`unchanged` for a public reply.",
                    },
                    "updated_datetime": DATETIME,
                    "description": {"type": "string"},
                    "media_url": {"type": "null"},
                },
            },
        },
        "PostedUpdates": {
            "type": "array",
            "xml": {"name": "service_request_updates", "wrapped": True},
            "minItems": 1,
            "maxItems": 1,
            "items": {
                "type": "object",
                "xml": {"name": "request_update"},
                "required": ["update_id"],
                "properties": {
                    "update_id": {"type": "string", "description": "Cetatea's id of the update."},
                    "account_id": {"type": "string"},
                },
            },
        },
        "NewRequest": {
            "type": "object",
            "description": "A new request. `service_code` and a location are required: `lat` "
            "and `long` (WGS84, inside the city) or an `address_string` that names a street "
            "of the city (its point is used). `address_id` alone is refused (400). "
            "`api_key` may also be sent in the query string.",
            "required": ["service_code"],
            "anyOf": [{"required": ["lat", "long"]}, {"required": ["address_string"]}],
            "properties": {
                "api_key": {"type": "string"},
                "jurisdiction_id": {"type": "string"},
                "service_code": {"type": "string", "maxLength": 200, "pattern": r"\S"},
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "long": {"type": "number", "minimum": -180, "maximum": 180},
                "address_string": {"type": "string", "maxLength": 300},
                "address_id": {"type": "string", "maxLength": 200},
                "email": {"type": "string", "format": "email", "maxLength": 200},
                "device_id": {"type": "string", "maxLength": 200},
                "account_id": {
                    "type": "string",
                    "maxLength": 200,
                    "description": "Returned in the answer.",
                },
                "first_name": {"type": "string", "maxLength": 200},
                "last_name": {"type": "string", "maxLength": 200},
                "phone": {"type": "string", "maxLength": 50},
                "description": {"type": "string", "maxLength": 4000},
                "title": {"type": "string", "maxLength": 120, "description": "Extension."},
                "media_url": {
                    "type": "array",
                    "maxItems": MAX_MEDIA_URLS,
                    "items": {
                        "type": "string",
                        "maxLength": 2000,
                        "pattern": MEDIA_URL_PATTERN,
                    },
                    "description": "http or https addresses of photos (a field repeated "
                    "for several); they are linked, not downloaded.",
                },
            },
            "additionalProperties": {
                "type": "string",
                "description": "Other fields are accepted and ignored.",
            },
            "patternProperties": {
                ATTRIBUTE_PATTERN: {
                    "type": "string",
                    "description": "`attribute[CODE]=value` answers the service's question "
                    "CODE; `attribute[CODE][]=v1&attribute[CODE][]=v2` for a "
                    "multivaluelist. Attributes that are not questions (such as "
                    "`attribute[fixmystreet_id]`) are kept with the request.",
                }
            },
        },
        "NewUpdate": {
            "type": "object",
            "description": "An update to a request (mySociety's extension). A status the "
            "request can move to changes it, in public, with the description; any other "
            "update is kept as an internal note for staff. `api_key` may also be sent in "
            "the query string. FixMyStreet's other fields (email, phone, names, media_url, "
            "attribute[…]) are accepted and ignored.",
            "required": [
                "service_request_id",
                "update_id",
                "status",
                "updated_datetime",
                "description",
            ],
            "properties": {
                "api_key": {"type": "string"},
                "jurisdiction_id": {"type": "string"},
                "service_request_id": {"type": "string", "pattern": r"\S"},
                "update_id": {
                    "type": "string",
                    "maxLength": 200,
                    "pattern": r"\S",
                    "description": "The client's id; the same id twice is a 400.",
                },
                "status": {"type": "string", "enum": list(FMS_TO_STATUS)},
                "updated_datetime": {
                    **DATETIME_IN,
                    "maxLength": 40,
                    "description": DATETIME_IN["description"]
                    + " Not more than 5 minutes in the future.",
                },
                "description": {"type": "string", "maxLength": 4000, "pattern": r"\S"},
                "account_id": {
                    "type": "string",
                    "maxLength": 200,
                    "description": "Returned in the answer.",
                },
            },
            "additionalProperties": {"type": "string"},
        },
    }


# --- responses ---------------------------------------------------------------------------------


def _content(schema: str) -> dict:
    return {JSON: {"schema": _ref(schema)}, XML: {"schema": _ref(schema)}}


def _responses() -> dict:
    error = _content("Errors")
    return {
        "BadRequest": {
            "description": "Anything else the client got wrong (a parameter out of range, a "
            "wrong method: code 405, a body that is not UTF-8), or the service could not "
            "answer (code 500). In the format asked for; XML when it could not be read.",
            "content": error,
        },
        "Forbidden": {
            "description": "The api_key is missing (on POST), unknown or revoked.",
            "content": error,
        },
        "NotFound": {
            "description": "No such service, request or token (or the request is not visible).",
            "content": error,
        },
        "TooManyRequests": {
            "description": "Too many requests from the client's address (600 reads a minute, "
            "300 filings an hour); wait and try again. Error code 429.",
            "content": error,
        },
    }


def _errors(*codes: int) -> dict:
    """The error responses ``codes``, and always 429 (every operation is rate limited)."""
    names = {400: "BadRequest", 403: "Forbidden", 404: "NotFound", 429: "TooManyRequests"}
    return {str(c): {"$ref": f"#/components/responses/{names[c]}"} for c in (*codes, 429)}


LINK = {
    "Link": {
        "description": 'Present when another page follows: `<…?page=N+1>; rel="next"`.',
        "schema": {"type": "string"},
    }
}


def _get(op_id: str, summary: str, params: list, schema: str, errors: tuple, **more) -> dict:
    ok = {"description": "OK", "content": _content(schema)}
    if "headers" in more:
        ok["headers"] = more.pop("headers")
    return {
        "get": {
            "operationId": op_id,
            "summary": summary,
            "tags": ["GeoReport v2"],
            "parameters": [_p("format"), _p("jurisdiction_id"), *params],
            "responses": {"200": ok, **_errors(*errors)},
            **more,
        }
    }


def _path_param(name: str, description: str, **schema) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, **schema},
        "description": description,
    }


def _paths() -> dict:
    request_filters = [
        _query(
            "service_request_id",
            {"type": "string"},
            f"Comma-separated request ids (at most {MAX_IDS}); when given, every other "
            "filter is ignored.",
        ),
        _query("service_code", {"type": "string"}, "Comma-separated service codes."),
        _p("start_date"),
        _p("end_date"),
        _query(
            "status",
            {"type": "array", "items": {"type": "string", "enum": ["open", "closed"]}},
            "`open`, `closed` or `open,closed` (case does not matter).",
            style="form",
            explode=False,
        ),
        _query(
            "updated_after",
            DATETIME_IN,
            "Only requests changed at or after this time (CitySDK extension).",
        ),
        _query("updated_before", DATETIME_IN, "Only requests changed at or before this time."),
        _query(
            "bbox",
            {
                "type": "string",
                "pattern": r"^[^,]+,[^,]+,[^,]+,[^,]+$",
                "example": "23.56,46.06,23.58,46.08",
            },
            "`min_long,min_lat,max_long,max_lat` in degrees (minimum below maximum).",
        ),
        _query(
            "lat",
            {"type": "number", "minimum": -90, "maximum": 90},
            "With `long`: requests within `radius` metres of the point.",
        ),
        _query("long", {"type": "number", "minimum": -180, "maximum": 180}, "With `lat`."),
        _query(
            "radius",
            {"type": "integer", "minimum": 1, "maximum": MAX_RADIUS_M, "default": 1000},
            "Metres around `lat`/`long` (needs them).",
        ),
        _p("extensions"),
        _p("page"),
        _p("page_size"),
        _p("api_key_optional"),
    ]
    discovery = _get(
        "discovery",
        "Service discovery",
        [],
        "Discovery",
        (400,),
        description="The endpoint, its formats, and how to get a key.",
    )
    return {
        f"{BASE}/": {
            "get": {
                "operationId": "discoveryRoot",
                "summary": "Service discovery at the base address (XML)",
                "tags": ["GeoReport v2"],
                "responses": {
                    "200": {"description": "OK", "content": {XML: {"schema": _ref("Discovery")}}},
                    **_errors(),
                },
            }
        },
        f"{BASE}/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This description",
                "tags": ["Meta"],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {JSON: {"schema": {"type": "object"}}},
                    },
                    **_errors(),
                },
            }
        },
        f"{BASE}/discovery.{{format}}": discovery,
        f"{BASE}/index.{{format}}": {"get": {**discovery["get"], "operationId": "discoveryIndex"}},
        f"{BASE}/services.{{format}}": _get(
            "getServiceList",
            "The services (categories) a request can be filed under",
            [],
            "Services",
            (400,),
        ),
        f"{BASE}/services/{{service_code}}.{{format}}": _get(
            "getServiceDefinition",
            "The questions (attributes) of a service",
            [_path_param("service_code", "A service_code from services.")],
            "ServiceDefinition",
            (400, 404),
        ),
        f"{BASE}/requests.{{format}}": {
            **_get(
                "getServiceRequests",
                "Public requests, newest first",
                request_filters,
                "ServiceRequests",
                (400, 403),
                headers=LINK,
                description="By default the requests registered in the last 90 days, "
                f"{MAX_PAGE_SIZE} a page.",
            ),
            "post": {
                "operationId": "postServiceRequest",
                "summary": "File a request",
                "tags": ["GeoReport v2"],
                "security": [{"api_key": []}],
                "parameters": [
                    _p("format"),
                    _p("jurisdiction_id"),
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "A key of the client's choosing: the same key again "
                        "(from the same client, at any time) returns the request already "
                        "filed, with status 200 (only the first 150 characters count). "
                        "Without it, the same content again within "
                        "CETATEA_OPEN311_REPEAT_SECONDS does the same.",
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        FORM: {
                            "schema": _ref("NewRequest"),
                            "encoding": {"media_url": {"style": "form", "explode": True}},
                        },
                        MULTIPART: {"schema": _ref("NewRequest")},
                    },
                },
                "responses": {
                    "201": {
                        "description": "Filed.",
                        "headers": {"Open311-Token": {"$ref": "#/components/headers/Token"}},
                        "content": _content("CreatedRequests"),
                    },
                    "200": {
                        "description": "The same request again (same Idempotency-Key, or "
                        "same content within the repeat window): the request already filed.",
                        "headers": {"Open311-Token": {"$ref": "#/components/headers/Token"}},
                        "content": _content("CreatedRequests"),
                    },
                    **_errors(400, 403, 404),
                },
            },
        },
        f"{BASE}/requests/{{service_request_id}}.{{format}}": _get(
            "getServiceRequest",
            "One request",
            [
                _path_param("service_request_id", "The request id (`AB-2026-000123`)."),
                _p("extensions"),
                _p("api_key_optional"),
            ],
            "ServiceRequests",
            (400, 403, 404),
        ),
        f"{BASE}/tokens/{{token}}.{{format}}": _get(
            "getServiceRequestIdFromToken",
            "The request id for the token a POST returned",
            [_path_param("token", "The `Open311-Token` header of the POST answer.")],
            "TokenRequests",
            (400, 404),
        ),
        f"{BASE}/servicerequestupdates.{{format}}": {
            **_get(
                "getServiceRequestUpdates",
                "Public updates of visible requests, oldest first",
                [
                    _p("start_date"),
                    _p("end_date"),
                    _p("page"),
                    _p("page_size"),
                    _p("api_key_optional"),
                ],  # fmt: skip
                "RequestUpdates",
                (400, 403),
                headers=LINK,
                description="mySociety's extension. Status changes and public replies; by "
                "default those of the last day.",
            ),
            "post": {
                "operationId": "postServiceRequestUpdate",
                "summary": "Send an update to a request",
                "tags": ["GeoReport v2"],
                "security": [{"api_key": []}],
                "parameters": [_p("format"), _p("jurisdiction_id")],
                "requestBody": {
                    "required": True,
                    "content": {
                        FORM: {"schema": _ref("NewUpdate")},
                        MULTIPART: {"schema": _ref("NewUpdate")},
                    },  # fmt: skip
                },
                "responses": {
                    "200": {"description": "Recorded.", "content": _content("PostedUpdates")},
                    **_errors(400, 403, 404),
                },
            },
        },
    }


def openapi_document() -> dict:
    site = settings.CETATEA_SITE_URL.rstrip("/")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cetatea Open311 GeoReport v2",
            "version": "2",
            "description": "The city's Open311 GeoReport v2 interface with the paging, "
            "`extensions`, CitySDK (bbox, radius, updated_after) and mySociety "
            "(servicerequestupdates) extensions. Every resource comes as `.xml` or `.json`; "
            "errors are `errors[error{code, description}]` in the format asked for. "
            "Reads need no key; writes need an `api_key` (body or query string). "
            "Guide: docs/open311.md.",
            "contact": {"name": settings.CETATEA_OPEN311_CONTACT},
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "externalDocs": {"url": "http://wiki.open311.org/GeoReport_v2"},
        "servers": [{"url": site}],
        "tags": [{"name": "GeoReport v2"}, {"name": "Meta"}],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "parameters": _parameters(),
            "responses": _responses(),
            "headers": {
                "Token": {
                    "description": "A token for the request (`tokens/{token}`), also when "
                    "the id is returned at once.",
                    "schema": {"type": "string"},
                }
            },
            "securitySchemes": {
                "api_key": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "api_key",
                    "description": "The client application's key (Django admin → Open311 "
                    "client applications). Also accepted as the `api_key` form field.",
                }
            },
        },
    }
