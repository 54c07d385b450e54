"""The data subject's export: everything about a person, as JSON and PDF; audited."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from cetatea.core.models import AuditLog
from cetatea.privacy import selectors
from cetatea.privacy.tests.factories import rich_person


def url(person, fmt="json"):
    return reverse(f"privacy:export_{fmt}", args=[person.pk])


def export(client, person, fmt="json", reason="Cererea 123/2026"):
    response = client.get(url(person, fmt), {"reason": reason})
    assert response.status_code == 200, response.content[:500]
    return response


@pytest.fixture
def data(citizen, registry):
    return rich_person(citizen, registry)


def test_the_json_holds_every_kind_of_data(client, dpo, data):
    client.force_login(dpo)
    response = export(client, data["person"])
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    doc = json.loads(b"".join(response.streaming_content))
    assert doc["schema"] == "cetatea.person-export"
    assert doc["schema_version"] == 1
    identity = doc["identity"][0]
    assert identity["last_name"] == "Popescu"
    assert identity["national_id"] == data["cnp"]  # in clear: the person's own data
    assert doc["contact_points"][0]["value"] == "+40722123456"
    assert {c["value"] for c in doc["contact_points"]} == {"+40722123456", "ion.popescu@example.ro"}
    assert doc["addresses"][0]["street"] == "Strada Trandafirilor"
    case = doc["cases"][0]
    assert case["reference"] == data["case"].reference
    assert case["description"] == "Groapă mare în fața blocului"
    assert "Repaired" in [e["text"] for e in case["events"]]
    assert doc["interactions"][0]["summary"] == "Called about the pothole near his block"
    assert doc["registry_entries"][0]["summary"] == "Cerere certificat fiscal"
    assert doc["tax_accounts"][0]["account"] == "R000777"
    assert doc["tax_accounts"][0]["total"] == "0.00"
    assert doc["calls"][0]["from"] == "+40722123456"
    assert [r["kind"] for r in doc["phone_robot"]] == ["pin", "call"]
    assert doc["portal_accounts"][0]["email"] == "ion.popescu@example.ro"
    assert {c["kind"] for c in doc["consents"]} == {"notification_language", "alerts_case"}
    assert doc["supported_cases"][0]["case"] == data["case"].reference
    assert [m["direction"] for m in doc["messages"]][-1] == "in"
    assert doc["audit"] and doc["audit"][-1]["action"] == "export"


def test_the_export_is_audited_with_its_reason(client, dpo, data):
    client.force_login(dpo)
    export(client, data["person"], reason="Cererea 123/2026")
    row = AuditLog.objects.filter(action=AuditLog.Action.EXPORT).get()
    assert (row.actor, row.person_id, row.reason) == (dpo, data["person"].pk, "Cererea 123/2026")
    assert row.details["format"] == "json"


def test_the_pdf_export(client, personas, data):
    client.force_login(personas["admin"])
    response = export(client, data["person"], "pdf")
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF")
    assert response["Content-Type"] == "application/pdf"
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT, details__format="pdf").exists()


def test_a_reason_is_required_and_nothing_is_exported_without(client, dpo, citizen):
    client.force_login(dpo)
    response = client.get(url(citizen["person"]))
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not AuditLog.objects.filter(action=AuditLog.Action.EXPORT).exists()


@pytest.mark.parametrize("who", ["operator", "clerk", "manager", "revenue", "citizen"])
def test_only_the_dpo_and_administrators_export(client, personas, citizen, who):
    client.force_login(personas[who])
    assert client.get(url(citizen["person"]), {"reason": "curiosity"}).status_code == 403
    assert client.get(url(citizen["person"], "pdf"), {"reason": "curiosity"}).status_code == 403
    assert not AuditLog.objects.filter(action=AuditLog.Action.EXPORT).exists()


def test_unknown_person_is_404(client, dpo):
    client.force_login(dpo)
    assert (
        client.get(reverse("privacy:export_json", args=[999999]), {"reason": "x" * 6}).status_code
        == 404
    )


def test_the_export_reads_cases_in_a_fixed_number_of_queries(
    client, dpo, citizen, django_assert_max_num_queries
):
    from conftest import make_case

    for _ in range(30):
        make_case(requester=citizen["person"])
    client.force_login(dpo)
    with django_assert_max_num_queries(60):
        doc = json.loads(b"".join(export(client, citizen["person"]).streaming_content))
    assert len(doc["cases"]) == 31
    assert all(c["events"] for c in doc["cases"])  # each case's events, read beside it


def test_the_sections_are_read_lazily(citizen):
    sections = selectors.person_data(citizen["person"])
    assert [s.key for s in sections][:3] == ["identity", "contact_points", "addresses"]
    assert not isinstance(sections[5].rows, list)


def test_the_person_page_links_to_privacy_for_the_dpo_only(client, dpo, personas, citizen):
    detail = reverse("people:detail", args=[citizen["person"].pk])
    client.force_login(dpo)
    assert (
        reverse("privacy:person", args=[citizen["person"].pk])
        in client.get(detail).content.decode()
    )
    client.force_login(personas["operator"])
    assert "/staff/privacy/" not in client.get(detail).content.decode()
