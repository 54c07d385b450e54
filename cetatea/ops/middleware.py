"""Request id, access log line and request metrics (docs/operations.md)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from cetatea.ops import metrics
from cetatea.ops.logs import current_request, route_name, user_id

access_log = logging.getLogger("cetatea.access")

# A client's or proxy's id is kept when it is short and plain; anything else is replaced.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestIdMiddleware:
    """Gives each request an id (``X-Request-ID`` from the proxy, or a new one), makes it
    and the request visible to the log filters, returns it in the response, and writes
    one access line per request: method, route name, status, duration, user id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        given = request.headers.get("X-Request-ID", "")
        request.request_id = given if _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex
        token = current_request.set(request)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id
            access_log.info(
                "%s %s %s",
                request.method,
                route_name(request) or "-",
                response.status_code,
                extra={
                    "method": request.method if request.method in _METHODS else "OTHER",
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": user_id(request),
                },
            )
            return response
        finally:
            current_request.reset(token)


class MetricsMiddleware:
    """Counts requests by method, route name and status class, and times them.

    Labels are bounded: the URL name of the view (``unmatched`` when none answered),
    never the path, which can hold references or names."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            method = request.method if request.method in _METHODS else "OTHER"
            route = route_name(request) or "unmatched"
            metrics.observe_request(
                method=method,
                route=route,
                status=f"{status // 100}xx",
                seconds=time.perf_counter() - started,
            )
