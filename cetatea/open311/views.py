"""The Open311 GeoReport v2 endpoints under ``/open311/v2/``.

One view takes every path under the base, so that whatever a client asks (an unknown
resource, a missing or unknown format, a wrong method, a body that is not UTF-8) is
answered in the spec's error shape, never with an HTML page.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_to_bytes, urlencode

from django.http import HttpResponse, QueryDict
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited

from cetatea.core import faults
from cetatea.open311 import selectors, services
from cetatea.open311.openapi import openapi_document
from cetatea.open311.render import CONTENT_TYPES, error_response, respond
from cetatea.open311.services import Open311Error, bad_request

log = logging.getLogger(__name__)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
_PATH = re.compile(
    r"^(?P<resource>discovery|services|requests|tokens|servicerequestupdates)"
    r"(?:/(?P<ident>[^/]+?))?(?:\.(?P<fmt>[A-Za-z0-9]+))?/?\Z"
)
_RESOURCE_DOT = re.compile(
    r"^(?:index|discovery|services|requests|tokens|servicerequestupdates)\.[^/]*/?\Z"
)
_RESOURCES_WITH_ID = {"services", "requests", "tokens"}


def _params_from_bytes(raw: bytes) -> QueryDict:
    """A form-encoded body or query string, refused unless every value is UTF-8."""
    for part in raw.split(b"&"):
        for piece in part.split(b"=", 1):
            try:
                text = unquote_to_bytes(piece.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                raise bad_request(_("The request is not valid UTF-8.")) from None
            if "\x00" in text:  # no database text column can hold it
                raise bad_request(_("The request may not contain a NUL character."))
    try:
        return QueryDict(raw, encoding="utf-8")
    except Exception as exc:  # too many fields, say  # noqa: BLE001
        raise bad_request(_("The request could not be read: %(e)s") % {"e": exc}) from None


def _query(request) -> QueryDict:
    return _params_from_bytes(request.META.get("QUERY_STRING", "").encode("latin-1"))


def _body(request) -> QueryDict:
    content_type = request.META.get("CONTENT_TYPE", "")
    kind, _sep, options = content_type.partition(";")
    kind = kind.strip().lower()
    charset = re.search(r"charset=([\w-]+)", options, re.I)
    if charset and charset.group(1).lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise bad_request(_("The request must be sent in UTF-8."))
    if kind in ("", "application/x-www-form-urlencoded"):
        return _params_from_bytes(request.body)
    if kind == "multipart/form-data":
        params = request.POST.copy()
        if any("\ufffd" in v for values in params.lists() for v in values[1]):
            raise bad_request(_("The request is not valid UTF-8."))
        if any("\x00" in k or any("\x00" in v for v in vs) for k, vs in params.lists()):
            raise bad_request(_("The request may not contain a NUL character."))
        return params
    raise bad_request(_("Send the fields form-encoded (application/x-www-form-urlencoded)."))


def _merged(query: QueryDict, body: QueryDict) -> QueryDict:
    """Body fields, and from the query string those the body does not have (old clients
    send ``api_key`` and ``jurisdiction_id`` in the query of a POST)."""
    merged = body.copy()
    for name, values in query.lists():
        if name not in merged:
            merged.setlist(name, values)
    return merged


@csrf_exempt
def endpoint(request, path: str = ""):
    # Client applications send no language cookie: their Accept-Language chooses the
    # language of the error descriptions (the city's language when they name none).
    translation.activate(translation.get_language_from_request(request))
    fmt = "xml"
    try:
        path = (path or "").lstrip("/")
        if _over_rate_limit(request):
            fmt = "json" if path.rstrip("/").lower().endswith(".json") else "xml"
            message = _("Too many requests from your address; wait a minute and try again.")
            return error_response(fmt, 429, [("429", message)])
        if "\x00" in path:
            raise bad_request(_("The address may not contain a NUL character."))
        if path in ("", "index.xml", "index.json"):
            fmt = "json" if path.endswith(".json") else "xml"
            _allow(request, "GET", "HEAD")
            return _discovery(fmt)
        if path == "openapi.json":
            fmt = "json"
            _allow(request, "GET", "HEAD")
            return HttpResponse(
                selectors_json(openapi_document()), content_type=CONTENT_TYPES["json"]
            )
        suffix = path.rstrip("/").rpartition(".")[2].lower()
        if "." in path and suffix in CONTENT_TYPES:
            fmt = suffix  # an unknown resource is still answered in the format asked for
        match = _PATH.match(path)
        if match is None and _RESOURCE_DOT.match(path):
            raise bad_request(_("Unknown format: use .xml or .json."))
        if match is None:
            raise services.not_found(_("There is no such resource: %(p)s.") % {"p": path[:80]})
        resource, ident, raw_fmt = match.group("resource", "ident", "fmt")
        if raw_fmt is None:
            raise bad_request(_("Add the format to the address: .xml or .json."))
        if raw_fmt.lower() not in CONTENT_TYPES:
            raise bad_request(_("Unknown format “%(f)s”: use .xml or .json.") % {"f": raw_fmt[:10]})
        fmt = raw_fmt.lower()
        if ident is not None and resource not in _RESOURCES_WITH_ID:
            raise services.not_found(_("There is no such resource: %(p)s.") % {"p": path[:80]})
        if resource == "tokens" and ident is None:
            raise services.not_found(_("Give the token in the address."))
        # ``path`` comes from PATH_INFO, already percent-decoded: decoding it again would
        # turn a literal "%41" into "A" (and "%FF" into an error).
        return _dispatch(request, resource, ident, fmt)
    except Open311Error as exc:
        return error_response(fmt, exc.status, exc.errors)
    except UnicodeDecodeError:
        return error_response(fmt, 400, [("400", _("The request is not valid UTF-8."))])
    except Exception as exc:
        if faults.database_unavailable(exc) or faults.storage_full(exc):
            # A fault of ours, not of the request: 503 (database) or 507 (disk), in the
            # spec's error shape, and the client is told when to try again.
            status = 503 if faults.database_unavailable(exc) else 507
            log.warning("Open311 request answered %s: %s", status, type(exc).__name__)
            response = error_response(
                fmt, status, [(str(status), _("The service is unavailable; try again later."))]
            )
            response["Retry-After"] = str(faults.RETRY_AFTER_SECONDS)
            return response
        # the spec's "general service error" (400): its shape, never a page
        log.exception("Open311 request failed: %s %s", request.method, request.get_full_path())
        return error_response(
            fmt, 400, [("500", _("The service could not answer; try again later."))]
        )


# Per client address: reading is generous (a FixMyStreet or an app polls), filing is not.
GET_RATE = "600/m"
POST_RATE = "300/h"


def _over_rate_limit(request) -> bool:
    if request.method in ("GET", "HEAD"):
        group, rate = "open311.read", GET_RATE
    else:
        group, rate = "open311.write", POST_RATE
    return is_ratelimited(request, group=group, key="ip", rate=rate, method=ALL, increment=True)


def selectors_json(value) -> bytes:
    from cetatea.open311.render import to_json

    return to_json(value)


def _allow(request, *methods: str) -> None:
    if request.method not in methods:
        raise bad_request(
            _("The method %(m)s is not allowed here; use %(allowed)s.")
            % {"m": request.method[:10], "allowed": " or ".join(methods)},
            code="405",
        )


def _client_if_key(params):
    key = (params.get("api_key") or "").strip()
    return services.authenticate(key) if key else None


def _next_link(request, page: int, more: bool, response: HttpResponse) -> HttpResponse:
    if more:
        query = request.GET.copy()
        query["page"] = str(page + 1)
        response["Link"] = f'<{request.path}?{urlencode(query, doseq=True)}>; rel="next"'
    return response


def _dispatch(request, resource: str, ident: str | None, fmt: str) -> HttpResponse:
    query = _query(request)
    if resource == "discovery":
        _allow(request, "GET", "HEAD")
        return _discovery(fmt)
    if resource == "services":
        _allow(request, "GET", "HEAD")
        if ident is None:
            return respond(fmt, "services", selectors.service_list())
        return respond(fmt, "service_definition", selectors.service_definition(ident))
    if resource == "tokens":
        _allow(request, "GET", "HEAD")
        return respond(fmt, "service_requests", [selectors.token_get(ident)])
    if resource == "requests":
        if ident is not None:
            _allow(request, "GET", "HEAD")
            extensions = (query.get("extensions") or "").lower() == "true"
            row = selectors.request_get(ident, client=_client_if_key(query), extensions=extensions)
            return respond(fmt, "service_requests", [row])
        _allow(request, "GET", "HEAD", "POST")
        if request.method == "POST":
            return _post_request(request, query, fmt)
        rows, more = selectors.request_list(query, client=_client_if_key(query))
        page, _size = selectors.paging(query)
        return _next_link(request, page, more, respond(fmt, "service_requests", rows))
    # servicerequestupdates
    _allow(request, "GET", "HEAD", "POST")
    if request.method == "POST":
        params = _merged(query, _body(request))
        client = services.authenticate(params.get("api_key"))
        case = selectors.case_for_update(params.get("service_request_id"), client)
        record = services.post_update(params, client=client, case=case)
        item = {"update_id": str(record.event_id)}
        if params.get("account_id"):
            item["account_id"] = params.get("account_id")[:200]
        return respond(fmt, "service_request_updates", [item])
    rows, more = selectors.update_list(query, client=_client_if_key(query))
    page, _size = selectors.paging(query)
    return _next_link(request, page, more, respond(fmt, "service_request_updates", rows))


def _post_request(request, query: QueryDict, fmt: str) -> HttpResponse:
    params = _merged(query, _body(request))
    client = services.authenticate(params.get("api_key"))
    result = services.submit_request(
        params, client=client, idempotency_key=request.headers.get("Idempotency-Key", "")
    )
    item = {"service_request_id": result.case.reference}
    if result.case.category.notice_ro:
        item["service_notice"] = result.case.category.notice_ro
    if result.submission.account_id:
        item["account_id"] = result.submission.account_id
    response = respond(fmt, "service_requests", [item], status=200 if result.repeated else 201)
    response["Open311-Token"] = result.submission.token
    return response


def _discovery(fmt: str) -> HttpResponse:
    from django.conf import settings

    base = settings.CETATEA_SITE_URL.rstrip("/") + "/open311/v2/"
    document = {
        "changeset": "2026-11-30T00:00:00+02:00",
        "contact": settings.CETATEA_OPEN311_CONTACT,
        "key_service": settings.CETATEA_OPEN311_KEY_SERVICE,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": "2026-11-30T00:00:00+02:00",
                "type": settings.CETATEA_OPEN311_ENDPOINT_TYPE,
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, "discovery", document)
