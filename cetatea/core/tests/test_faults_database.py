"""A database that cannot be reached answers 503 with Retry-After, in the visitor's
language (JSON for JSON clients, the spec's shape for Open311), never a traceback."""

from __future__ import annotations

import json
from contextlib import contextmanager
from xml.etree import ElementTree as ET

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client, RequestFactory

from cetatea.core import faults
from cetatea.open311.models import ApiClient

pytestmark = pytest.mark.django_db


@contextmanager
def database_down(error=OperationalError):
    """Every query fails as it does while PostgreSQL restarts."""

    def refuse(execute, sql, params, many, context):
        raise error("server closed the connection unexpectedly")

    with connection.execute_wrapper(refuse):
        yield


@pytest.fixture
def browser():
    client = Client(raise_request_exception=False)
    client.cookies["django_language"] = "en"
    return client


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_page_answers_503_with_a_clear_message_when_the_database_is_down(browser, catalog, error):
    assert browser.get("/cases/").status_code == 200
    with database_down(error):
        response = browser.get("/cases/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(faults.RETRY_AFTER_SECONDS)
    html = response.content.decode()
    assert "Cetatea cannot reach its database right now" in html
    assert "Traceback" not in html and "server closed the connection" not in html
    assert browser.get("/cases/").status_code == 200  # and the next request works


def test_the_report_form_answers_503_not_500_and_files_nothing(browser, catalog):
    from cetatea.cases.models import Case

    with database_down():
        response = browser.post("/report/", {"category": "POTHOLE", "title": "Groapă"})
    assert response.status_code == 503
    assert Case.objects.count() == 0


def test_the_page_is_in_romanian_by_default(catalog):
    with database_down():
        response = Client(raise_request_exception=False).get("/cases/")
    assert response.status_code == 503
    assert '<html lang="ro">' in response.content.decode()


def test_a_json_client_gets_json(browser, catalog):
    with database_down():
        response = browser.get("/cases/", HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    assert response.json()["error"] == "database_unavailable"


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_open311_answers_503_in_the_specs_error_shape(browser, catalog, fmt):
    app = ApiClient(name="FixMyStreet")
    key = app.new_key()
    app.save()
    data = {"api_key": key, "service_code": "POTHOLE", "lat": "46.07", "long": "23.57"}
    with database_down():
        response = browser.post(f"/open311/v2/requests.{fmt}", data)
    assert response.status_code == 503
    assert response["Retry-After"] == str(faults.RETRY_AFTER_SECONDS)
    if fmt == "json":
        assert str(json.loads(response.content)[0]["code"]) == "503"
    else:
        assert ET.fromstring(response.content).find("error/code").text == "503"  # noqa: S314 - our own answer


def test_an_error_outside_a_view_gets_the_same_answer_from_handler500():
    request = RequestFactory().get("/cases/")
    try:
        raise OperationalError("terminating connection due to administrator command")
    except OperationalError:
        response = faults.server_error(request)
    assert response.status_code == 503 and response["Retry-After"]
    try:
        raise ValueError("a bug")
    except ValueError:
        response = faults.server_error(request)
    assert response.status_code == 500
    assert b"a bug" not in response.content
