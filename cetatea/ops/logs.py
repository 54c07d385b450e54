"""Structured logs without personal data (docs/operations.md).

Every record that reaches the console handler goes through two filters and a formatter:

- ``RequestContextFilter`` adds the request's id, route name (never the raw path: it can
  hold a reference, a name or an e-mail) and the user's numeric id, read from the request
  the middleware put in a context variable;
- ``ScrubPersonalDataFilter`` replaces CNP-like 13-digit numbers, e-mail addresses, phone
  numbers and IBANs with ``[redacted]`` in the message, its arguments and any extra
  string field;
- ``JsonFormatter`` (python-json-logger) writes one JSON object per line; the text
  formatter is for development.
"""

from __future__ import annotations

import contextvars
import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

REDACTED = "[redacted]"

# Order matters: an IBAN holds long digit runs, an e-mail may hold digits.
_PATTERNS = [
    # IBAN: country, check digits, 11-30 letters or digits (in groups of 4 or not).
    re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b"),
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    # CNP (and any other 13-digit number: a CNP is one without its check digit tested).
    re.compile(r"(?<!\d)\d{13}(?!\d)"),
    # Phone numbers: +40 / 0040 / 40 and nine digits, 07.. / 02.. / 03.. national numbers,
    # and any other international number (+ and 8 to 15 digits), with spaces, dots or dashes.
    re.compile(r"(?<![\w+])(?:\+|00)?40(?:[ .-]?\d){9}(?!\d)"),
    re.compile(r"(?<!\w)0[237](?:[ .-]?\d){8}(?!\d)"),
    re.compile(r"\+\d(?:[ .-]?\d){7,14}(?!\d)"),
]


def scrub(text: str) -> str:
    """``text`` with every personal identifier replaced by ``[redacted]``."""
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


# The request being served by this thread or task (set by RequestIdMiddleware).
current_request: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "cetatea_request", default=None
)

# Attributes of every LogRecord: never treated as "extra" fields.
_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def route_name(request) -> str:
    """The URL name of the view that answered (``people:search``), never the path."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    return match.view_name or ""


def user_id(request) -> int | None:
    """The signed-in user's numeric id, only when the request already loaded the user
    (logging never costs a session query)."""
    user = request.__dict__.get("_cached_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


class RequestContextFilter(logging.Filter):
    """Adds ``request_id``, ``route`` and ``user_id`` to records logged during a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = current_request.get()
        if request is not None:
            if not hasattr(record, "request_id"):
                record.request_id = getattr(request, "request_id", "")
            if not hasattr(record, "route"):
                record.route = route_name(request)
            if not hasattr(record, "user_id"):
                record.user_id = user_id(request)
        return True


class ScrubPersonalDataFilter(logging.Filter):
    """Replaces personal identifiers in the message, its arguments and extra fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: log what there is, scrubbed
            message = f"{record.msg} {record.args!r}"
        record.msg = scrub(str(message))
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key not in _RESERVED and isinstance(value, str):
                setattr(record, key, scrub(value))
        return True


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, then the
    request's fields and any extra ones; tracebacks are scrubbed too."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__("%(levelname)s %(name)s %(message)s", *args, **kwargs)

    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        return scrub(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 (logging's name)
        return scrub(super().formatStack(stack_info))


class TextFormatter(logging.Formatter):
    """Plain lines for development: time, level, logger, request id, message."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", "")
        return f"{line} [{request_id}]" if request_id else line

    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        return scrub(super().formatException(ei))
