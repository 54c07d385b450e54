"""Erasure: anonymises a person, keeps legal records and statistics, refuses while a
legal obligation runs; two steps in the UI; audited; irreversible."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cetatea.cases.models import Case, CaseEvent, Interaction
from cetatea.core.models import AuditLog
from cetatea.people.models import Person
from cetatea.privacy.models import Erasure
from cetatea.privacy.services import person_erase
from cetatea.privacy.tests.factories import rich_person

REASON = "Cererea de ștergere 45/2026, GDPR art. 17(1)(a)"


@pytest.fixture
def data(citizen, registry):
    return rich_person(citizen, registry)


def erase(person, actor):
    return person_erase(person_id=person.pk, actor=actor, reason=REASON)


def test_erasure_anonymises_the_person(dpo, data):
    person = data["person"]
    erasure = erase(person, dpo)
    person.refresh_from_db()
    assert person.first_name == ""
    assert person.last_name == f"Persoană ștearsă #{person.pk}"
    assert person.national_id_encrypted == person.national_id_hash == ""
    assert person.national_id_masked == person.notes == ""
    assert not person.contact_points.exists()
    assert not person.addresses.exists()
    assert erasure.counts["contact_points_removed"] == 2
    assert Erasure.objects.get(person=person).actor == dpo


def test_erasure_clears_linked_personal_data(dpo, data):
    from cetatea.cases.services import Contact, case_change_status
    from cetatea.inbox.models import InboundMessage
    from cetatea.notify.models import Preference
    from cetatea.portal.models import Subscription, Supporter
    from cetatea.telephony.models import Call, RobotCall, RobotPin
    from conftest import make_case

    ticket = make_case(
        requester=data["person"],
        regime="ticket",
        contact=Contact(name="Ion P.", email="ion.popescu@example.ro", phone="0722123456"),
        show_name=True,
    )
    case_change_status(case_id=ticket.pk, status="fixed", actor=None)
    erase(data["person"], dpo)
    ticket = Case.objects.get(pk=ticket.pk)
    assert (ticket.contact_name, ticket.contact_email, ticket.contact_phone) == ("", "", "")
    assert not ticket.show_name
    assert set(
        Interaction.objects.filter(person=data["person"]).values_list("summary", flat=True)
    ) == {""}
    call = Call.objects.get(pk=data["call"].pk)
    assert call.from_number == ""
    robot = RobotCall.objects.get(pk=data["robot_call"].pk)
    assert (robot.caller_hash, robot.state, robot.options) == ("", {}, ["taxes"])
    assert not RobotPin.objects.exists()
    assert not Subscription.objects.exists()
    assert not Supporter.objects.exists()
    assert not Preference.objects.exists()
    inbound = InboundMessage.objects.get(pk=data["inbound"].pk)
    assert (inbound.from_address, inbound.from_name, inbound.subject) == ("", "", "")
    user = type(data["account_user"]).objects.get(pk=data["account_user"].pk)
    assert not user.is_active
    assert not user.has_usable_password()
    assert user.email == ""
    assert "popescu" not in user.username


def test_erasure_keeps_statistics_and_legal_records(dpo, data):
    from cetatea.registry.models import Entry
    from cetatea.revenue.models import TaxpayerAccount

    case = data["case"]
    events_before = CaseEvent.objects.filter(case=case).count()
    erase(data["person"], dpo)
    kept = Case.objects.get(pk=case.pk)
    assert (kept.category_id, kept.area_id, kept.status) == (
        case.category_id,
        case.area_id,
        "fixed",
    )
    assert (kept.registered_at, kept.closed_at, kept.latitude) == (
        case.registered_at,
        case.closed_at,
        case.latitude,
    )
    assert CaseEvent.objects.filter(case=case).count() == events_before
    entry = Entry.objects.get(pk=data["entry"].pk)  # a legal record: unchanged
    assert (entry.sender_name, entry.summary, entry.person_id) == (
        "Popescu Ion",
        "Cerere certificat fiscal",
        data["person"].pk,
    )
    assert TaxpayerAccount.objects.get(pk=data["account"].pk).name == "Popescu Ion"


def test_petitions_are_kept_as_legal_records(dpo, citizen):
    from conftest import make_case

    petition = make_case(requester=citizen["person"], category="INFO", description="Cer informații")
    Case.objects.filter(pk=petition.pk).update(
        status="fixed", contact_name="Ion Popescu", contact_phone="+40722123456"
    )
    erasure = erase(citizen["person"], dpo)
    kept = Case.objects.get(pk=petition.pk)
    assert kept.regime == "info_544"
    assert (kept.contact_name, kept.description) == ("Ion Popescu", "Cer informații")
    assert kept.contact_phone == ""  # how to reach them: not part of the record
    assert kept.requester_id == citizen["person"].pk
    # the fixture's pothole case of an identified person is a petition too (OG 27/2002)
    assert erasure.counts["cases_kept_as_legal_records"] == 2


def test_the_statistics_facts_hold_no_personal_data_and_are_unchanged(dpo, data):
    from cetatea.insights.models import Fact
    from cetatea.insights.refresh import refresh

    refresh()
    before = list(Fact.objects.order_by("source", "source_id").values_list("data", flat=True))
    assert before
    text = str(before)
    assert "Popescu" not in text and data["cnp"] not in text and "0722" not in text
    erase(data["person"], dpo)
    refresh()
    after = list(Fact.objects.order_by("source", "source_id").values_list("data", flat=True))
    assert after == before


def test_erasure_is_audited(dpo, data):
    erase(data["person"], dpo)
    row = AuditLog.objects.get(action=AuditLog.Action.ERASE)
    assert (row.actor, row.person_id, row.reason) == (dpo, data["person"].pk, REASON)
    assert row.details["contact_points_removed"] == 2
    assert "Popescu" not in str(row.details) + row.object_repr


def test_refused_while_a_case_is_open(dpo, citizen):
    from conftest import make_case

    make_case(requester=citizen["person"])
    with pytest.raises(ValidationError) as exc:
        erase(citizen["person"], dpo)
    assert "1 open case(s): the city still owes an answer." in exc.value.messages
    person = Person.objects.get(pk=citizen["person"].pk)
    assert person.last_name == "Popescu" and person.contact_points.count() == 2
    assert not Erasure.objects.exists()
    assert not AuditLog.objects.filter(action=AuditLog.Action.ERASE).exists()


def test_refused_while_a_registry_entry_is_open(dpo, citizen, registry):
    from cetatea.registry.services import registry_entry_register

    registry_entry_register(
        point=registry["points"]["rg"],
        doc_type=registry["types"]["cerere"],
        summary="Cerere",
        person=citizen["person"],
    )
    with pytest.raises(ValidationError, match="open registry entry"):
        erase(citizen["person"], dpo)


def test_refused_while_money_is_owed(dpo, citizen):
    from cetatea.revenue.models import Fine, TaxpayerAccount

    account = TaxpayerAccount.objects.create(external_id="R1", person=citizen["person"], name="P")
    Fine.objects.create(
        account=account,
        external_id="F1",
        number="123",
        issued_on=dt.date(2025, 1, 10),
        issuer="Poliția Locală",
        amount=Decimal("500.00"),
    )
    with pytest.raises(ValidationError) as exc:
        erase(citizen["person"], dpo)
    assert "Taxpayer account R1 owes 500.00 lei." in exc.value.messages


def test_refused_twice(dpo, citizen):
    erase(citizen["person"], dpo)
    with pytest.raises(ValidationError, match="already erased"):
        erase(citizen["person"], dpo)


def test_refused_for_a_merged_record(dpo, personas, citizen):
    from cetatea.people.services import person_merge
    from conftest import make_person

    survivor = make_person(last_name="Popescu", first_name="Ioan")
    person_merge(
        survivor_id=survivor.pk,
        duplicate_id=citizen["person"].pk,
        actor=personas["clerk"],
        reason="The same man",
    )
    with pytest.raises(ValidationError, match="merged into another"):
        erase(citizen["person"], dpo)


def test_a_reason_is_required(dpo, citizen):
    with pytest.raises(ValidationError, match="Say why"):
        person_erase(person_id=citizen["person"].pk, actor=dpo, reason="because")
    assert not Erasure.objects.exists()


# --- the pages -----------------------------------------------------------------------------


def test_two_steps_then_erased(client, dpo, citizen):
    person = citizen["person"]
    url = reverse("privacy:erase", args=[person.pk])
    client.force_login(dpo)
    assert "Type the record number again" not in client.get(url).content.decode()
    step2 = client.post(url, {"reason": REASON})
    assert step2.status_code == 200
    assert "Type the record number again" in step2.content.decode()
    assert not Erasure.objects.exists()
    wrong = client.post(url, {"reason": REASON, "confirm": str(person.pk + 1)})
    assert wrong.status_code == 400
    assert "This is not the record number of this person." in wrong.content.decode()
    assert not Erasure.objects.exists()
    done = client.post(url, {"reason": REASON, "confirm": f"#{person.pk}"})
    assert done.status_code == 302
    assert Erasure.objects.filter(person=person).exists()
    page = client.get(done["Location"]).content.decode()
    assert "This person&#x27;s data was erased" in page or "This person's data was erased" in page


def test_the_page_lists_the_reasons_it_is_refused(client, dpo, citizen):
    from conftest import make_case

    make_case(requester=citizen["person"])
    client.force_login(dpo)
    url = reverse("privacy:erase", args=[citizen["person"].pk])
    assert "1 open case(s)" in client.get(url).content.decode()
    response = client.post(url, {"reason": REASON, "confirm": str(citizen["person"].pk)})
    assert response.status_code == 400
    assert not Erasure.objects.exists()


@pytest.mark.parametrize("who", ["admin", "operator", "clerk", "manager"])
def test_only_the_dpo_erases(client, personas, citizen, who):
    client.force_login(personas[who])
    url = reverse("privacy:erase", args=[citizen["person"].pk])
    response = client.post(url, {"reason": REASON, "confirm": str(citizen["person"].pk)})
    assert response.status_code == 403
    assert not Erasure.objects.exists()


def test_the_privacy_page_of_a_person(client, dpo, personas, citizen):
    from conftest import make_case

    make_case(requester=citizen["person"])
    url = reverse("privacy:person", args=[citizen["person"].pk])
    client.force_login(dpo)
    html = client.get(url).content.decode()
    assert "Download as JSON" in html
    assert "1 open case(s)" in html
    assert reverse("privacy:erase", args=[citizen["person"].pk]) not in html
    client.force_login(personas["admin"])  # exports; does not erase
    html = client.get(url).content.decode()
    assert "Download as PDF" in html and "Erase this person" not in html
    client.force_login(personas["operator"])
    assert client.get(url).status_code == 403


def test_the_roles(db):
    from django.contrib.auth.models import Group

    def perms(role):
        group = Group.objects.get(name=role)
        return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}

    from cetatea.core import roles

    dpo = perms(roles.DATA_PROTECTION)
    assert {"core.view_auditlog", "privacy.export_person_data", "privacy.erase_person"} <= dpo
    admin = perms(roles.ADMINISTRATOR)
    assert {"core.view_auditlog", "privacy.export_person_data"} <= admin
    assert "privacy.erase_person" not in admin
    assert "core.view_auditlog" not in perms(roles.OPERATOR)
