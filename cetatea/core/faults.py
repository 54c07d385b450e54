"""What a visitor gets when a part the site depends on fails (docs/benchmarks.md,
"Fault tests").

* The database is unreachable (restarted, failed over, out of connections):
  ``django.db.OperationalError`` or ``InterfaceError`` become **503 Service
  Unavailable** with ``Retry-After``, a short page in the visitor's language (JSON for
  the JSON APIs), never a traceback. The page says the last action may not have been
  saved: the error can come after a commit (when the session is written, say), and the
  forms that file something carry a submission key, so sending one again files nothing
  twice.
* The disk is full (``ENOSPC``, or a quota: ``EDQUOT``) when a file is stored: **507
  Insufficient Storage**, "the file was not stored". The services that store files do so
  inside their transaction, so nothing half-saved is left (see
  ``cetatea.core.storage.FileSystemStorage`` for the partly written file).

``FaultMiddleware`` answers for exceptions raised by views; ``server_error`` (the
project's ``handler500``) for those raised elsewhere (a middleware writing the session,
say), so that the answer is the same wherever the error comes from. The rendering uses
no database and no request context processor (both would fail again).
"""

from __future__ import annotations

import errno
import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait: a PostgreSQL restart or fail-over takes a few.
RETRY_AFTER_SECONDS = 10
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def database_unavailable(exc: BaseException | None) -> bool:
    """True for the errors of a database that cannot be reached or has dropped the
    connection (``django.db`` wraps the driver's own)."""
    return isinstance(exc, (OperationalError, InterfaceError))


def storage_full(exc: BaseException | None) -> bool:
    """True when a file could not be written because the disk (or quota) is full."""
    return isinstance(exc, OSError) and exc.errno in _FULL


def _wants_json(request: HttpRequest) -> bool:
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def fault_response(request: HttpRequest, exc: BaseException | None) -> HttpResponse | None:
    """The answer to ``exc`` when it is a fault of the platform, else None."""
    if database_unavailable(exc):
        status, kind = 503, "database_unavailable"
        title = _("Service temporarily unavailable")
        message = _(
            "Cetatea cannot reach its database right now. Your last action may not have "
            "been saved. Please try again in a minute."
        )
    elif storage_full(exc):
        status, kind = 507, "storage_full"
        title = _("The file could not be stored")
        message = _(
            "The server cannot store files right now (its disk is full), so what you sent "
            "was not saved. Please try again later; if it keeps happening, tell the city "
            "hall's IT service."
        )
    else:
        return None
    logger.warning(
        "%s %s answered %s: %s: %s",
        request.method,
        request.path,
        status,
        type(exc).__name__,
        str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "",
    )
    if _wants_json(request):
        response = JsonResponse({"error": kind, "detail": message}, status=status)
    else:
        html = render_to_string(
            "core/fault.html", {"title": title, "message": message, "status": status}
        )
        response = HttpResponse(html, status=status)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class FaultMiddleware:
    """Turns a database outage into a 503 and a full disk into a 507 (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        return fault_response(request, exception)


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """``handler500``: the fault page when the error is a fault (raised outside a view),
    else Django's plain 500 page (never a traceback: DEBUG is off in production)."""
    response = fault_response(request, sys.exc_info()[1])
    if response is not None:
        return response
    return defaults.server_error(request, template_name)
