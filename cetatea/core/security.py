"""Security helpers shared by every app: how a stored or generated file is sent, the
Permissions-Policy header, and the answer to a request over a rate limit.

``file_response`` is the one way a view sends a file a person uploaded or an export the
system generated (docs/security.md, "Headers, CSP, uploads and rate limits"):

* the content type comes from an allow-list (``SAFE_TYPES``): anything else, and always
  HTML, XHTML, XML and SVG (which run script in a browser), goes out as
  ``application/octet-stream``;
* ``Content-Disposition: attachment`` unless the caller asks for ``inline`` *and* the type
  is a raster image or a PDF (``INLINE_TYPES``);
* ``X-Content-Type-Options: nosniff``, ``Cache-Control: private, no-store``, and a
  Content-Security-Policy of its own (``default-src 'none'``, ``sandbox`` except for an
  inline PDF, which Chromium's viewer refuses to draw in a sandbox), so that even a file
  a browser did render could run nothing and load nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import IO

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited

from cetatea.core import uploads

INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})
# Types the site sends: those of uploads.SAFE_TYPES, and the exports and feeds it makes.
SAFE_TYPES = frozenset(
    {value.split(";")[0] for value in uploads.SAFE_TYPES.values()}
    | {"text/calendar", "application/json", "application/geo+json", "application/octet-stream"}
)
# Never sent for a stored file, whatever the caller says: a browser runs their script.
_ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
    }
)
FILE_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"
INLINE_PDF_CSP = "default-src 'none'; frame-ancestors 'none'"


def safe_content_type(content_type: str | None, filename: str) -> str:
    """The type a file goes out with: ``content_type`` (else the type of ``filename``'s
    extension) when it is on the allow-list, else ``application/octet-stream``."""
    declared = (content_type or uploads.content_type_for(filename)).strip()
    base = declared.split(";")[0].strip().lower()
    if base in _ACTIVE_TYPES or base not in SAFE_TYPES:
        return "application/octet-stream"
    if base.startswith("text/") and "charset" not in declared.lower():
        return f"{base}; charset=utf-8"
    return declared


def harden_file_response(
    response: HttpResponseBase, *, filename: str, inline: bool = False
) -> HttpResponseBase:
    """Give ``response`` (a file being sent) the headers of a safe download: see the
    module's docstring. Its content type is replaced when it is not on the allow-list."""
    content_type = safe_content_type(response.get("Content-Type"), filename)
    response["Content-Type"] = content_type
    shown_inline = inline and content_type.split(";")[0] in INLINE_TYPES
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=not shown_inline, filename=uploads.safe_name(filename)
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    pdf = content_type.startswith("application/pdf")
    response["Content-Security-Policy"] = INLINE_PDF_CSP if shown_inline and pdf else FILE_CSP
    return response


def file_response(
    content: bytes | str | IO[bytes] | Iterable[bytes],
    *,
    filename: str,
    content_type: str | None = None,
    inline: bool = False,
) -> HttpResponseBase:
    """A response sending ``content`` (bytes, text, an open binary file or an iterator of
    bytes) as ``filename``, with the headers of ``harden_file_response``."""
    kind = safe_content_type(content_type, filename)
    if isinstance(content, str):
        content = content.encode("utf-8")
    if isinstance(content, bytes):
        response: HttpResponseBase = HttpResponse(content, content_type=kind)
    elif hasattr(content, "read"):
        response = FileResponse(content, content_type=kind)
    else:
        from django.http import StreamingHttpResponse

        response = StreamingHttpResponse(content, content_type=kind)
    return harden_file_response(response, filename=filename, inline=inline)


# --- Permissions-Policy -------------------------------------------------------------------

# The only powerful feature a page uses: the report form's "use my location" (geolocation,
# this site only). Everything else is off for the site and for anything it might embed.
PERMISSIONS_POLICY = ", ".join(
    [
        "geolocation=(self)",
        "camera=()",
        "microphone=()",
        "payment=()",
        "usb=()",
        "serial=()",
        "bluetooth=()",
        "midi=()",
        "magnetometer=()",
        "gyroscope=()",
        "accelerometer=()",
        "display-capture=()",
    ]
)


class PermissionsPolicyMiddleware:
    """Adds ``Permissions-Policy`` (and ``Cross-Origin-Opener-Policy`` where Django's
    SecurityMiddleware did not) to every response that has none."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


# --- rate limits --------------------------------------------------------------------------


def too_many_requests(request: HttpRequest) -> HttpResponse:
    """The answer to a request over a rate limit: 429, a plain sentence in the visitor's
    language (JSON for a client that asked for JSON)."""
    text = _("Too many requests from your address. Please wait a few minutes and try again.")
    if "json" in request.headers.get("Accept", "") or request.path.endswith(".json"):
        response: HttpResponse = JsonResponse({"error": text}, status=429)
    else:
        response = HttpResponse(text, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = "60"
    return response


# A PBX's event and callback URLs (CTI, the robot's webhook): a busy call centre sends a
# few events per call from one address; an address guessing tokens is slowed down.
WEBHOOK_RATE = "1200/m"


def rate_limit(rate: str, *, methods: tuple[str, ...] = ("POST",), group: str | None = None):
    """Refuse (``too_many_requests``) a request of ``methods`` from an address past
    ``rate`` ("30/h", django-ratelimit's syntax) for the decorated view. For the views
    whose limited answer is the plain 429 sentence; forms that show the error in the
    page use django-ratelimit's decorator with ``block=False`` themselves."""

    def decorator(view):
        name = group or f"{view.__module__}.{view.__qualname__}"

        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if request.method in methods and is_ratelimited(
                request, group=name, key="ip", rate=rate, method=ALL, increment=True
            ):
                return too_many_requests(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
