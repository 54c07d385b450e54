"""Retention: each rule clears a row just past its term and keeps one just inside it;
dry runs change nothing; a second run does nothing; the command reports per kind."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from cetatea.cases.models import Case
from cetatea.privacy import retention

NOW = timezone.now()


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def run(dry_run=False):
    return {o.key: o for o in retention.apply_all(now=NOW, dry_run=dry_run)}


@pytest.fixture
def terms(settings):
    settings.CETATEA_RETENTION_ROBOT_CALL_DAYS = 90
    settings.CETATEA_RETENTION_REPORTER_CONTACT_DAYS = 365
    settings.CETATEA_RETENTION_INBOUND_EMAIL_DAYS = 180
    settings.CETATEA_RETENTION_SIGN_IN_DAYS = 365
    return settings


def robot_call(n: int, started_at):
    from cetatea.telephony.models import RobotCall

    return RobotCall.objects.create(
        call_id=f"r{n}",
        transport="sip",
        caller_hash="h",
        started_at=started_at,
        options=["taxes"],
        outcome="done",
        state={"expect": "menu"},
    )


def test_robot_calls(terms, db):
    from cetatea.telephony.models import RobotAttempt, RobotCall

    inside, outside = robot_call(1, days_ago(89.9)), robot_call(2, days_ago(90.1))
    RobotAttempt.objects.create(identity_hash="a", at=days_ago(89.9))
    RobotAttempt.objects.create(identity_hash="b", at=days_ago(90.1))
    outcome = run()
    assert outcome["robot_calls"].count == 1
    assert outcome["robot_attempts"].count == 1
    kept, cleared = RobotCall.objects.get(pk=inside.pk), RobotCall.objects.get(pk=outside.pk)
    assert (kept.caller_hash, kept.state) == ("h", {"expect": "menu"})
    assert (cleared.caller_hash, cleared.state) == ("", {})
    assert (cleared.options, cleared.outcome) == (["taxes"], "done")  # the KPIs stay
    assert list(RobotAttempt.objects.values_list("identity_hash", flat=True)) == ["a"]


def closed_case(closed_at, **contact):
    from cetatea.cases.services import Contact
    from conftest import make_case

    case = make_case(contact=Contact(**contact))
    Case.objects.filter(pk=case.pk).update(status="fixed", closed_at=closed_at)
    return case


def test_reporter_contacts(terms, catalog):
    from cetatea.cases.services import Contact
    from conftest import make_case, make_person

    inside = closed_case(days_ago(364.9), name="Ana", email="ana@example.ro", phone="0722000001")
    outside = closed_case(days_ago(365.1), name="Dan", email="dan@example.ro", phone="0722000002")
    still_open = make_case(contact=Contact(name="Eva"))
    Case.objects.filter(pk=still_open.pk).update(registered_at=days_ago(800))
    identified = closed_case(days_ago(400), name="Ion")
    Case.objects.filter(pk=identified.pk).update(requester=make_person())
    assert run()["reporter_contacts"].count == 1
    assert Case.objects.get(pk=inside.pk).contact_email == "ana@example.ro"
    cleared = Case.objects.get(pk=outside.pk)
    assert (cleared.contact_name, cleared.contact_email, cleared.contact_phone) == ("", "", "")
    assert cleared.category_id == outside.category_id  # the statistics stay
    assert Case.objects.get(pk=still_open.pk).contact_name == "Eva"
    assert Case.objects.get(pk=identified.pk).contact_name == "Ion"  # erasure's business


def test_inbound_emails(terms, db):
    from cetatea.inbox.models import InboundMessage

    def message(n, days):
        return InboundMessage.objects.create(
            message_id=f"<{n}@x>",
            source="imap",
            from_address=f"p{n}@example.ro",
            from_name="P",
            subject="S",
            outcome="rejected",
            received_at=days_ago(days),
        )

    inside, outside = message(1, 179.9), message(2, 180.1)
    assert run()["inbound_emails"].count == 1
    assert InboundMessage.objects.get(pk=inside.pk).from_address == "p1@example.ro"
    cleared = InboundMessage.objects.get(pk=outside.pk)
    assert (cleared.from_address, cleared.from_name, cleared.subject) == ("", "", "")
    assert cleared.message_id == "<2@x>"  # the same message fetched again is still known


def test_sign_ins(terms, db):
    model = retention.sign_in_model()
    if model is None:  # the accounts app is not installed: nothing to do, no crash
        assert run()["sign_ins"].skipped == "not installed"
        return
    inside = model.objects.create(username="a", time=days_ago(364.9), outcome="success")
    model.objects.create(username="b", time=days_ago(365.1), outcome="success")
    assert run()["sign_ins"].count == 1
    assert list(model.objects.values_list("pk", flat=True)) == [inside.pk]


def test_without_the_sign_in_log_the_rule_is_skipped(terms, db, monkeypatch):
    monkeypatch.setattr(retention, "sign_in_model", lambda: None)
    assert run()["sign_ins"].skipped == "not installed"


def test_a_zero_term_keeps_everything(terms, db):
    terms.CETATEA_RETENTION_ROBOT_CALL_DAYS = 0
    call = robot_call(1, days_ago(5000))
    assert run()["robot_calls"].skipped == "kept (term 0)"
    assert type(call).objects.get(pk=call.pk).caller_hash == "h"


def test_dry_run_changes_nothing_and_a_second_run_does_nothing(terms, db, monkeypatch):
    from cetatea.telephony.models import RobotCall

    monkeypatch.setattr(retention, "BATCH", 2)  # several batches
    for n in range(5):
        robot_call(n, days_ago(100))
    assert run(dry_run=True)["robot_calls"].count == 5
    assert RobotCall.objects.filter(caller_hash="h").count() == 5
    assert run()["robot_calls"].count == 5
    assert not RobotCall.objects.filter(caller_hash="h").exists()
    assert run()["robot_calls"].count == 0


def test_the_command_reports_each_kind(terms, db):
    robot_call(1, days_ago(100))
    out = io.StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "robot_calls: would clear 1 (older than 90 days" in text
    assert "reporter_contacts: would clear 0" in text
    assert "inbound_emails: would clear 0" in text
    assert "sign_ins:" in text
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    assert "robot_calls: cleared 1" in out.getvalue()
    assert "sessions: expired sessions cleared" in out.getvalue()
