"""What the Open311 reads never show: the reporter's name, e-mail and phone, internal
notes, and cases that are not public (unless the calling client filed them)."""

from __future__ import annotations

import pytest

from cetatea.cases.models import Case
from cetatea.cases.services import case_add_note
from cetatea.open311.tests.support import FORMATS, errors, parse, post_form, url
from conftest import INSIDE

pytestmark = pytest.mark.django_db

SECRETS = {
    "first_name": "Zamfira",
    "last_name": "Hărăbăgiu",
    "email": "zamfira.secret@example.ro",
    "phone": "0744 987 654",
}
INTERNAL = "Notă internă: vecinul e consilier"


def file(client, key, **more) -> tuple[str, str]:
    body = {
        "api_key": key,
        "service_code": "POTHOLE",
        "lat": str(INSIDE[0]),
        "long": str(INSIDE[1]),
        "description": "Groapă",
        **SECRETS,
        **more,
    }
    response = post_form(client, url("requests", "json"), body)
    assert response.status_code == 201, response.content
    return response.json()[0]["service_request_id"], response["Open311-Token"]


def all_reads(reference: str, token: str, key: str) -> list[str]:
    paths = []
    for fmt in FORMATS:
        for query in ({}, {"extensions": "true"}, {"api_key": key, "extensions": "true"}):
            paths += [
                url("requests", fmt, **query),
                url(f"requests/{reference}", fmt, **query),
                url("requests", fmt, service_request_id=reference, **query),
                url("servicerequestupdates", fmt, **query),
            ]
        paths += [url(f"tokens/{token}", fmt), url("services", fmt), url("discovery", fmt)]
    return paths


def test_contact_details_and_internal_notes_are_never_shown(client, catalog, fms, personas):
    reference, token = file(client, fms.key)
    case = Case.objects.get(reference=reference)
    assert case.contact_email == SECRETS["email"] and case.contact_phone  # kept, for staff
    case_add_note(case_id=case.pk, text=INTERNAL, actor=personas["staff"], public=False)
    case_add_note(case_id=case.pk, text="Răspuns public", actor=personas["staff"], public=True)
    # a client's comment (no status change) is kept for staff only
    update = post_form(
        client,
        url("servicerequestupdates", "json"),
        {
            "api_key": fms.key,
            "service_request_id": reference,
            "update_id": "c-1",
            "status": "UNCHANGED",
            "updated_datetime": "2026-01-01T10:00:00+02:00",
            "description": "Comentariu privat de la Zamfira",
            "email": SECRETS["email"],
        },
    )
    assert update.status_code == 200
    phone_digits = "".join(ch for ch in SECRETS["phone"] if ch.isdigit())
    forbidden = [*SECRETS.values(), phone_digits, phone_digits[1:], case.contact_phone, INTERNAL]
    forbidden += ["Comentariu privat", fms.key]
    seen_reply = False
    for path in all_reads(reference, token, fms.key):
        response = client.get(path)
        assert response.status_code == 200, (path, response.content[:200])
        body = response.content.decode()
        for secret in forbidden:
            assert secret not in body, (path, secret)
        seen_reply |= "Răspuns public" in body
    assert seen_reply  # the reads did show the case's public history


@pytest.mark.parametrize("fmt", FORMATS)
def test_private_cases_are_seen_only_by_the_client_that_filed_them(
    client, catalog, fms, other_app, fmt
):
    from cetatea.catalog.models import Category

    Category.objects.filter(code="LEAK").update(on_map=False)
    reference, token = file(client, other_app.key, service_code="LEAK")
    assert Case.objects.get(reference=reference).publication == "private"

    errors(client.get(url(f"requests/{reference}", fmt)), fmt, 404)
    errors(client.get(url(f"requests/{reference}", fmt, api_key=fms.key)), fmt, 404)
    for query in ({}, {"api_key": fms.key}):
        assert reference not in client.get(url("requests", fmt, **query)).content.decode()
        listed = client.get(url("requests", fmt, service_request_id=reference, **query))
        assert reference not in listed.content.decode()
    # the client that filed it sees it with its key
    [item] = parse(client.get(url(f"requests/{reference}", fmt, api_key=other_app.key)), fmt)
    assert item["service_request_id"] == reference
    mine = client.get(url("requests", fmt, api_key=other_app.key)).content.decode()
    assert reference in mine
    # and may post updates to it; another client may not
    errors(
        post_form(
            client,
            url("servicerequestupdates", fmt),
            {
                "api_key": fms.key,
                "service_request_id": reference,
                "update_id": "x-1",
                "status": "FIXED",
                "updated_datetime": "2026-01-01T10:00:00+02:00",
                "description": "Nu e al meu",
            },
        ),
        fmt,
        404,
    )
    assert Case.objects.get(reference=reference).status == "new"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_case_hidden_by_a_moderator_is_gone_even_for_its_client(client, catalog, fms, fmt):
    reference, token = file(client, fms.key)
    Case.objects.filter(reference=reference).update(publication="hidden")
    errors(client.get(url(f"requests/{reference}", fmt)), fmt, 404)
    errors(client.get(url(f"requests/{reference}", fmt, api_key=fms.key)), fmt, 404)
    errors(client.get(url(f"tokens/{token}", fmt)), fmt, 404)
    assert reference not in client.get(url("requests", fmt, api_key=fms.key)).content.decode()
