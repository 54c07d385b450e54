"""/healthz for load balancers and /metrics for Prometheus (docs/operations.md)."""

from __future__ import annotations

import hmac
import ipaddress
import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import Http404, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from cetatea.ops import metrics, selectors

logger = logging.getLogger(__name__)

# A request that came through a proxy is never let in by its address: behind a proxy
# on the same host every visitor would look like 127.0.0.1.
_FORWARDING_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


@never_cache
@require_GET
def healthz(request):
    """The database (503 when it does not answer), the file storages on local disk
    (writable; 503 when not) and the task queue (a warning when its oldest ready task
    has waited past CETATEA_HEALTH_QUEUE_WARN_SECONDS). Each check is one cheap call."""
    body: dict = {"status": "ok"}
    status = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        body["database"] = "ok"
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)

    storages = {}
    for alias in selectors.file_storage_aliases():
        writable = selectors.storage_writable(alias)
        storages[alias] = "not checked" if writable is None else ("ok" if writable else "error")
        if writable is False:
            body["status"], status = "error", 503
    body["storages"] = storages

    try:
        oldest = selectors.oldest_ready_task_at()
    except DatabaseError:
        logger.exception("healthz: the task queue could not be read")
        body["queue"] = {"status": "error"}
        body["status"], status = "error", 503
    else:
        age = max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else 0.0
        late = age > settings.CETATEA_HEALTH_QUEUE_WARN_SECONDS
        body["queue"] = {"status": "warn" if late else "ok", "oldest_ready_seconds": round(age)}
        if late and body["status"] == "ok":
            body["status"] = "warn"
    return JsonResponse(body, status=status)


def _allowed_address(request) -> bool:
    if any(request.headers.get(h) for h in _FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    for item in settings.CETATEA_METRICS_ALLOW:
        try:
            if address in ipaddress.ip_network(item, strict=False):
                return True
        except ValueError:
            logger.warning("CETATEA_METRICS_ALLOW: %r is not an address or network", item)
    return False


def _valid_token(request) -> bool:
    expected = settings.CETATEA_METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


@never_cache
@require_GET
def metrics_view(request):
    """Prometheus text format, for the allowed addresses or the bearer token; 404
    for anyone else (the page does not say it exists)."""
    if not (_valid_token(request) or _allowed_address(request)):
        raise Http404
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
