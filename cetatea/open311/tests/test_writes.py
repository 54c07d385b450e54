"""Open311 writes: POST requests (as FixMyStreet sends them, repeat protection, keys in
the body or the query), POST servicerequestupdates, client keys in the admin."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone

from cetatea.cases.models import Case, CaseEvent
from cetatea.open311.models import ApiClient, ApiSubmission, ApiUpdate, hash_key
from cetatea.open311.tests.support import (
    FORMATS,
    W3C,
    assert_valid,
    errors,
    parse,
    post_form,
    url,
    xml_root,
)
from conftest import INSIDE

pytestmark = pytest.mark.django_db


def report(key: str | None, **changes) -> dict:
    data = {
        "api_key": key,
        "service_code": "POTHOLE",
        "lat": str(INSIDE[0]),
        "long": str(INSIDE[1]),
        "description": "Groapă adâncă în fața școlii",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def filed_id(response, fmt: str, status: int = 201) -> str:
    assert response.status_code == status, response.content[:300]
    [item] = parse(response, fmt, root="service_requests")
    assert "token" not in item  # realtime: the id at once
    return item["service_request_id"]


# --- POST requests ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_a_request(client, lamp, fms, fmt):
    body = report(
        fms.key,
        service_code="LAMP",
        first_name="Maria",
        last_name="Ionescu",
        email="maria@example.ro",
        phone="0722123456",
        device_id="dev-1",
        account_id="acc-7",
        media_url=["https://img.example.ro/1.jpg"],
        **{
            "attribute[pole]": "S-12",
            "attribute[details]": "Pe colț",
            "attribute[lamps]": "2",
            "attribute[state]": "blink",
            "attribute[when][]": ["day", "night"],
        },
    )
    response = post_form(client, url("requests", fmt), body)
    reference = filed_id(response, fmt)
    [item] = parse(response, fmt)
    assert item["service_notice"] == "Becurile se schimbă în 3 zile."
    assert item["account_id"] == "acc-7"
    case = Case.objects.get(reference=reference)
    assert case.channel == "open311" and case.category.code == "LAMP"
    assert (case.latitude, case.longitude) == INSIDE
    assert case.description == "Groapă adâncă în fața școlii"
    assert case.contact_name == "Maria Ionescu" and case.contact_email == "maria@example.ro"
    assert case.contact_phone
    assert case.publication == "public"
    assert case.answers == {
        "pole": "S-12",
        "details": "Pe colț",
        "lamps": 2,
        "state": "blink",
        "when": ["day", "night"],
    }
    submission = ApiSubmission.objects.get(case=case)
    assert submission.client == fms.app
    assert submission.token == response["Open311-Token"]
    assert (submission.device_id, submission.account_id) == ("dev-1", "acc-7")
    assert submission.media_urls == ["https://img.example.ro/1.jpg"]
    assert submission.extra_attributes == {}
    # it reads back at once, with the media URL the client sent
    [read] = parse(client.get(url(f"requests/{reference}", "json")), "json")
    assert read["media_url"] == "https://img.example.ro/1.jpg"
    assert read["status"] == "open"
    assert_valid("requests", [read])
    # the key was used
    assert ApiClient.objects.get(pk=fms.app.pk).last_used_at is not None


def test_a_category_off_the_map_files_a_private_case(client, catalog, fms):
    from cetatea.catalog.models import Category

    Category.objects.filter(code="LEAK").update(on_map=False)
    reference = filed_id(
        post_form(client, url("requests", "json"), report(fms.key, service_code="LEAK")), "json"
    )
    assert Case.objects.get(reference=reference).publication == "private"


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_key_in_the_query_string(client, catalog, fms, fmt):
    path = url("requests", fmt, api_key=fms.key, jurisdiction_id="alba-iulia.ro")
    filed_id(post_form(client, path, report(None)), fmt)
    # a key in the body wins over one in the query
    errors(post_form(client, path, report("wrong")), fmt, 403)


def test_a_multipart_body_is_accepted(client, catalog, fms):
    response = client.post(url("requests", "json"), report(fms.key, description="Prin multipart"))
    reference = filed_id(response, "json")
    assert Case.objects.get(reference=reference).description == "Prin multipart"


def test_the_body_may_say_it_is_utf8(client, catalog, fms):
    from urllib.parse import urlencode

    response = client.post(
        url("requests", "json"),
        urlencode(report(fms.key, description="Șanț adânc")),
        content_type="application/x-www-form-urlencoded; charset=UTF-8",
    )
    assert Case.objects.get(reference=filed_id(response, "json")).description == "Șanț adânc"


def test_the_address_of_a_street_locates_the_request(client, catalog, fms):
    from cetatea.catalog.models import Street
    from cetatea.core.text import name_key

    name = "Strada Mihai Viteazu"
    Street.objects.create(
        name=name, name_key=name_key(name), latitude=INSIDE[0], longitude=INSIDE[1]
    )
    body = report(fms.key, lat=None, long=None, address_string="Mihai Viteazu")
    case = Case.objects.get(
        reference=filed_id(post_form(client, url("requests", "json"), body), "json")
    )
    assert (case.latitude, case.longitude) == INSIDE
    assert case.address_text == "Mihai Viteazu"


# --- repeat protection -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_post_twice_files_one_case(client, catalog, fms, fmt):
    first = post_form(client, url("requests", fmt), report(fms.key))
    again = post_form(client, url("requests", fmt), report(fms.key))
    assert filed_id(first, fmt) == filed_id(again, fmt, status=200)
    assert first["Open311-Token"] == again["Open311-Token"]
    assert Case.objects.count() == 1 and ApiSubmission.objects.count() == 1
    # the order of the fields and the jurisdiction do not make it another request
    reordered = dict(reversed(list(report(fms.key, jurisdiction_id="x").items())))
    filed_id(post_form(client, url("requests", fmt), reordered), fmt, status=200)
    assert Case.objects.count() == 1


def test_the_same_idempotency_key_files_one_case(client, catalog, fms):
    first = post_form(
        client, url("requests", "json"), report(fms.key), HTTP_IDEMPOTENCY_KEY="fms-1234"
    )
    changed = post_form(
        client,
        url("requests", "xml"),
        report(fms.key, description="Alt text, trimis din nou"),
        HTTP_IDEMPOTENCY_KEY="fms-1234",
    )
    assert filed_id(first, "json") == filed_id(changed, "xml", status=200)
    assert Case.objects.count() == 1
    assert Case.objects.get().description == "Groapă adâncă în fața școlii"
    # with the same key much later, still the same case
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        later = post_form(
            client, url("requests", "json"), report(fms.key), HTTP_IDEMPOTENCY_KEY="fms-1234"
        )
    assert filed_id(later, "json", status=200) == filed_id(first, "json")
    # another key, another case
    other = post_form(
        client, url("requests", "json"), report(fms.key), HTTP_IDEMPOTENCY_KEY="fms-1235"
    )
    assert filed_id(other, "json") != filed_id(first, "json")
    assert Case.objects.count() == 2


def test_different_content_files_two_cases(client, catalog, fms):
    one = filed_id(post_form(client, url("requests", "json"), report(fms.key)), "json")
    two = filed_id(
        post_form(client, url("requests", "json"), report(fms.key, description="Altă groapă")),
        "json",
    )
    assert one != two and Case.objects.count() == 2


def test_the_same_content_from_two_clients_files_two_cases(client, catalog, fms, other_app):
    one = filed_id(post_form(client, url("requests", "json"), report(fms.key)), "json")
    two = filed_id(post_form(client, url("requests", "json"), report(other_app.key)), "json")
    assert one != two


def test_the_same_content_after_the_repeat_window_is_a_new_case(client, catalog, fms, settings):
    settings.CETATEA_OPEN311_REPEAT_SECONDS = 600
    one = filed_id(post_form(client, url("requests", "json"), report(fms.key)), "json")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        two = filed_id(post_form(client, url("requests", "json"), report(fms.key)), "json")
    assert one != two


# --- FixMyStreet -----------------------------------------------------------------------------


def test_fixmystreet_files_and_reads_back(client, catalog, fms):
    """FixMyStreet's Open311.pm: a form-encoded POST to requests.xml with its own id as an
    attribute and the photos as repeated media_url; then it reads the request back."""
    body = [
        ("api_key", fms.key),
        ("jurisdiction_id", "alba-iulia.ro"),
        ("service_code", "POTHOLE"),
        ("lat", "46.07"),
        ("long", "23.57"),
        ("description", "Groapă\r\nmare, lângă trecere"),
        ("first_name", "Ion"),
        ("last_name", "Popa"),
        ("email", "ion.popa@example.com"),
        ("attribute[fixmystreet_id]", "1234"),
        ("media_url", "https://fms.example.ro/photo/1234.0.full.jpeg"),
        ("media_url", "https://fms.example.ro/photo/1234.1.full.jpeg"),
    ]
    response = post_form(client, url("requests", "xml"), body)
    assert response.status_code == 201
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = xml_root(response.content)
    assert root.tag == "service_requests"
    reference = root.find("./request/service_request_id").text
    assert reference

    for path in (
        url(f"requests/{reference}", "xml"),
        url("requests", "xml", service_request_id=reference, jurisdiction_id="alba-iulia.ro"),
    ):
        read = client.get(path)
        assert read.status_code == 200
        request = xml_root(read.content).find("./request")
        assert request.find("service_request_id").text == reference
        assert float(request.find("lat").text) == 46.07
        assert float(request.find("long").text) == 23.57
        assert request.find("service_code").text == "POTHOLE"
        assert W3C.match(request.find("requested_datetime").text)
        assert W3C.match(request.find("updated_datetime").text)
        assert request.find("status").text == "open"
        assert request.find("media_url").text == "https://fms.example.ro/photo/1234.0.full.jpeg"
    # and in the plain list FMS polls
    listed = xml_root(client.get(url("requests", "xml")).content)
    assert reference in [r.find("service_request_id").text for r in listed]

    case = Case.objects.get(reference=reference)
    assert case.description.replace("\r\n", "\n") == "Groapă\nmare, lângă trecere"
    assert case.contact_email == "ion.popa@example.com"
    submission = ApiSubmission.objects.get(case=case)
    assert submission.extra_attributes == {"fixmystreet_id": "1234"}
    assert submission.media_urls == [
        "https://fms.example.ro/photo/1234.0.full.jpeg",
        "https://fms.example.ro/photo/1234.1.full.jpeg",
    ]
    # FMS sends it again when it did not see the answer: the same request
    again = post_form(client, url("requests", "xml"), body)
    assert again.status_code == 200
    assert xml_root(again.content).find("./request/service_request_id").text == reference


# --- POST servicerequestupdates --------------------------------------------------------------


def send_update(client, fmt, key, reference, update_id, status, description="Rezolvat", **more):
    body = {
        "api_key": key,
        "service_request_id": reference,
        "update_id": update_id,
        "status": status,
        "updated_datetime": timezone.now().isoformat(),
        "description": description,
        **more,
    }
    return post_form(client, url("servicerequestupdates", fmt), body)


@pytest.mark.parametrize("fmt", FORMATS)
def test_updates_change_the_status_and_reopen(client, catalog, fms, fmt):
    reference = filed_id(post_form(client, url("requests", fmt), report(fms.key)), fmt)
    response = send_update(
        client, fmt, fms.key, reference, "fms-u-1", "FIXED", "Am reparat", account_id="acc-9"
    )
    assert response.status_code == 200
    [item] = parse(response, fmt, root="service_request_updates")
    record = ApiUpdate.objects.get(update_id="fms-u-1")
    assert item == {"update_id": str(record.event_id), "account_id": "acc-9"}
    case = Case.objects.get(reference=reference)
    assert case.status == "fixed" and case.closed_at is not None
    assert record.client == fms.app and record.case == case and record.status == "FIXED"
    assert record.event.to_status == "fixed" and record.event.is_public
    [read] = parse(client.get(url(f"requests/{reference}", fmt)), fmt)
    assert read["status"] == "closed" and read["status_notes"] == "Am reparat"
    updates = parse(client.get(url("servicerequestupdates", "json")), "json")
    mine = [u for u in updates if u["service_request_id"] == reference]
    assert [(u["status"], u["description"]) for u in mine][-1] == ("fixed", "Am reparat")
    assert mine[-1]["update_id"] == str(record.event_id)

    # OPEN reopens a closed case
    response = send_update(client, fmt, fms.key, reference, "fms-u-2", "OPEN", "Iar s-a stricat")
    assert response.status_code == 200
    assert Case.objects.get(reference=reference).status == "reopened"
    [read] = parse(client.get(url(f"requests/{reference}", fmt)), fmt)
    assert read["status"] == "open"
    # OPEN on an open case changes nothing but is kept as a note for staff
    events = CaseEvent.objects.filter(case=case).count()
    response = send_update(client, fmt, fms.key, reference, "fms-u-3", "OPEN", "Încă deschis")
    assert response.status_code == 200
    assert Case.objects.get(reference=reference).status == "reopened"
    note = CaseEvent.objects.filter(case=case).order_by("-id").first()
    assert CaseEvent.objects.filter(case=case).count() == events + 1
    assert note.kind == "internal_note" and not note.is_public and "Încă deschis" in note.text


@pytest.mark.parametrize(
    ("sent", "status"),
    [
        ("IN_PROGRESS", "in_progress"),
        ("INVESTIGATING", "acknowledged"),
        ("ACTION_SCHEDULED", "planned"),
        ("DUPLICATE", "duplicate"),
        ("NOT_COUNCILS_RESPONSIBILITY", "not_responsible"),
        ("NO_FURTHER_ACTION", "unable_to_fix"),
        ("CLOSED", "new"),  # closed is not fixed: a note for staff
        ("CANCELLED", "withdrawn"),
        ("UNCHANGED", "new"),
        ("FOR_TRIAGE", "new"),
    ],
)
def test_each_upper_case_status(client, catalog, fms, sent, status):
    reference = filed_id(post_form(client, url("requests", "json"), report(fms.key)), "json")
    response = send_update(client, "json", fms.key, reference, f"u-{sent}", sent)
    assert response.status_code == 200
    assert Case.objects.get(reference=reference).status == status


def test_update_ids_are_per_client(client, catalog, fms, other_app):
    reference = filed_id(post_form(client, url("requests", "json"), report(fms.key)), "json")
    assert send_update(client, "json", fms.key, reference, "u-1", "IN_PROGRESS").status_code == 200
    assert send_update(client, "json", other_app.key, reference, "u-1", "FIXED").status_code == 200
    assert ApiUpdate.objects.count() == 2


# --- keys in the admin -----------------------------------------------------------------------


@pytest.fixture
def root(client, db):
    user = User.objects.create_superuser("root", "root@example.ro", "correct-horse-9")
    client.force_login(user)
    return user


def test_admin_shows_a_new_key_once_and_stores_its_hash(client, catalog, root):
    response = client.post(
        "/admin/open311/apiclient/add/",
        {"name": "Aplicația Alba", "contact_email": "dev@example.ro", "is_active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    [message] = [m for m in shown if "api_key" in m]
    key = re.search(r" (\S+) —", message).group(1)
    app = ApiClient.objects.get(name="Aplicația Alba")
    assert app.key_hash == hash_key(key) and key.startswith(app.key_prefix)
    stored = ApiClient.objects.filter(pk=app.pk).values().get()
    assert all(key not in str(value) for value in stored.values())
    # not shown again
    page = client.get(f"/admin/open311/apiclient/{app.pk}/change/")
    assert key not in page.content.decode()
    assert key not in client.get("/admin/open311/apiclient/").content.decode()
    # the key works
    client.logout()
    filed_id(post_form(client, url("requests", "json"), report(key)), "json")


def test_admin_revoke_action(client, catalog, root, fms, other_app):
    response = client.post(
        "/admin/open311/apiclient/",
        {"action": "revoke", "_selected_action": [fms.app.pk]},
        follow=True,
    )
    assert response.status_code == 200
    app = ApiClient.objects.get(pk=fms.app.pk)
    assert not app.is_active and app.revoked_at is not None
    assert ApiClient.objects.get(pk=other_app.app.pk).is_active
    errors(post_form(client, url("requests", "xml"), report(fms.key)), "xml", 403)
    filed_id(post_form(client, url("requests", "xml"), report(other_app.key)), "xml")


def test_admin_issue_new_key_action(client, catalog, root, fms):
    response = client.post(
        "/admin/open311/apiclient/",
        {"action": "issue_new_key", "_selected_action": [fms.app.pk]},
        follow=True,
    )
    [message] = [str(m) for m in response.context["messages"] if "api_key" in str(m)]
    new_key = re.search(r" (\S+) —", message).group(1)
    assert new_key != fms.key
    errors(post_form(client, url("requests", "json"), report(fms.key)), "json", 403)
    filed_id(post_form(client, url("requests", "json"), report(new_key)), "json")


def test_revoking_in_code(client, catalog, fms):
    fms.app.revoke()
    fms.app.save()
    errors(post_form(client, url("requests", "json"), report(fms.key)), "json", 403)
    assert not Case.objects.exists()
