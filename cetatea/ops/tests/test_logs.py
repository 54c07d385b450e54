"""Structured logs: JSON lines with the request's id, route and user, never personal data."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.conf import settings

from cetatea.ops.logs import (
    JsonFormatter,
    RequestContextFilter,
    ScrubPersonalDataFilter,
    TextFormatter,
    scrub,
)
from conftest import make_user


@pytest.fixture
def json_lines():
    """The console handler's filters and formatter, on a stream the test reads."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.addFilter(ScrubPersonalDataFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.mark.urls("cetatea.ops.tests.urls")
def test_a_request_that_logs_a_cnp_and_an_email_writes_json_lines_without_them(
    client, db, json_lines
):
    user = make_user("worker")
    client.force_login(user)
    path = "/chatty/1850312011234-ion.popescu@example.ro/"
    response = client.get(path, headers={"X-Request-ID": "req-42"})
    assert response["X-Request-ID"] == "req-42"
    lines = json_lines()
    text = "\n".join(json.dumps(line) for line in lines)
    for secret in ("1850312011234", "ion.popescu", "722 123 456", "RO49AAAA"):
        assert secret not in text
    said = next(line for line in lines if line["logger"] == "cetatea.test")
    assert said["message"] == (
        "Citizen [redacted] wrote from [redacted], phone [redacted], IBAN [redacted]"
    )
    assert said["level"] == "WARNING" and said["time"].startswith("20")
    assert said["request_id"] == "req-42" and said["route"] == "chatty"
    access = next(line for line in lines if line["logger"] == "cetatea.access")
    assert access["message"] == "GET chatty 200"
    assert access["status"] == 200 and access["duration_ms"] >= 0
    assert access["user_id"] == user.pk and access["request_id"] == "req-42"


@pytest.mark.urls("cetatea.ops.tests.urls")
def test_a_request_without_an_id_gets_one_and_a_bad_one_is_replaced(client, db, json_lines):
    first = client.get("/chatty/x/")["X-Request-ID"]
    second = client.get("/chatty/x/", headers={"X-Request-ID": "bad id\nwith newline"})
    assert len(first) == 32 and first != second["X-Request-ID"]
    assert "\n" not in second["X-Request-ID"]
    assert {line.get("user_id") for line in json_lines()} == {None}


@pytest.mark.parametrize(
    "text",
    [
        "CNP 2950101221144 at the counter",
        "mail maria.ionescu+cetatea@primaria-alba.ro please",
        "call 0722 123 456 or 0258.811.117 or +40722123456 or 0040 722 123 456 or 021 312 3456",
        "iban RO49 AAAA 1B31 0075 9384 0000 and RO49AAAA1B31007593840000",
        "a foreign number +49 30 1234567",
    ],
)
def test_personal_identifiers_are_redacted(text):
    cleaned = scrub(text)
    assert "[redacted]" in cleaned
    assert not any(ch.isdigit() for ch in cleaned.replace("[redacted]", "")), cleaned


def test_ordinary_figures_are_kept():
    text = "case AB-2026-000123 took 2.5 s, 12 photos, 404, task 123456789"
    assert scrub(text) == text


def test_extra_fields_and_tracebacks_are_scrubbed_too():
    record = logging.makeLogRecord(
        {"msg": "lookup %s", "args": ("1850312011234",), "email": "a@b.ro", "levelno": 20}
    )
    ScrubPersonalDataFilter().filter(record)
    assert record.getMessage() == "lookup [redacted]" and record.email == "[redacted]"
    try:
        raise ValueError("bad CNP 1850312011234")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert "1850312011234" not in line["exc_info"] and "[redacted]" in line["exc_info"]
    assert "1850312011234" not in TextFormatter().format(record)


def test_the_console_handler_writes_scrubbed_json_lines():
    handler = settings.LOGGING["handlers"]["console"]
    assert handler["filters"] == ["context", "scrub"]
    assert handler["formatter"] == ("json" if settings.CETATEA_LOG_FORMAT == "json" else "text")
    assert settings.LOGGING["formatters"]["json"]["()"] == "cetatea.ops.logs.JsonFormatter"
