"""escalate_cases: the department head first, the managers when breached for long;
each case and level once; cases waiting for the citizen are skipped."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from cetatea.cases.services import case_change_status
from cetatea.intake.models import Escalation, EscalationContact
from conftest import make_case, make_user

BUC = ZoneInfo("Europe/Bucharest")
T0 = dt.datetime(2026, 3, 2, 10, tzinfo=BUC)  # POTHOLE: 240 h target, due T0 + 10 days


def run():
    out = io.StringIO()
    call_command("escalate_cases", stdout=out)
    return out.getvalue()


@pytest.fixture
def people(catalog, personas, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    head = make_user("head", email="sef.drumuri@primaria.ro")
    EscalationContact.objects.create(department=catalog["roads"], user=head)
    manager = personas["manager"]
    manager.email = "manager@primaria.ro"
    manager.save(update_fields=["email"])
    return {"head": head, "manager": manager}


@pytest.fixture
def case(people):
    with time_machine.travel(T0, tick=False):
        return make_case()


def at(hours: float):
    return time_machine.travel(T0 + dt.timedelta(hours=hours), tick=False)


def notes(case):
    return list(case.events.filter(kind="internal_note", handler="system").order_by("id"))


def test_escalates_to_the_head_then_the_managers_once_each(
    case, people, django_capture_on_commit_callbacks
):
    with at(200), django_capture_on_commit_callbacks(execute=True):  # 40 h before due
        assert run() == "escalations: 0\n"
    assert mail.outbox == []

    with at(220), django_capture_on_commit_callbacks(execute=True):  # 20 h before: warn
        assert run() == "escalations: 1\n"
    level1 = Escalation.objects.get(case=case)
    assert (level1.level, level1.reason) == (1, "due_soon")
    assert level1.recipients == ["sef.drumuri@primaria.ro"]
    assert [m.to for m in mail.outbox] == [["sef.drumuri@primaria.ro"]]
    assert case.reference in mail.outbox[0].subject
    [note] = notes(case)
    assert not note.is_public and "sef.drumuri@primaria.ro" in note.text

    with at(221), django_capture_on_commit_callbacks(execute=True):  # idempotent
        assert run() == "escalations: 0\n"
    with at(250), django_capture_on_commit_callbacks(execute=True):  # breached 10 h only
        assert run() == "escalations: 0\n"
    assert len(mail.outbox) == 1

    with at(265), django_capture_on_commit_callbacks(execute=True):  # breached 25 h
        assert run() == "escalations: 1\n"
    level2 = Escalation.objects.get(case=case, level=2)
    assert level2.reason == "breached" and level2.recipients == ["manager@primaria.ro"]
    assert [m.to for m in mail.outbox][-1] == ["manager@primaria.ro"]
    assert len(notes(case)) == 2

    with at(300), django_capture_on_commit_callbacks(execute=True):
        assert run() == "escalations: 0\n"
    assert len(mail.outbox) == 2 and Escalation.objects.count() == 2


def test_a_case_found_long_breached_is_escalated_at_both_levels(
    case, people, django_capture_on_commit_callbacks
):
    with at(400), django_capture_on_commit_callbacks(execute=True):
        assert run() == "escalations: 2\n"
    assert sorted(Escalation.objects.values_list("level", "reason")) == [
        (1, "breached"),
        (2, "breached"),
    ]


def test_a_case_waiting_for_the_citizen_is_not_escalated(
    case, people, django_capture_on_commit_callbacks
):
    with at(100):
        case_change_status(case_id=case.pk, status="on_hold", actor=None)
    with at(400), django_capture_on_commit_callbacks(execute=True):
        assert run() == "escalations: 0\n"
    assert mail.outbox == [] and not Escalation.objects.exists()


def test_closed_cases_are_not_escalated(case, people):
    with at(100):
        case_change_status(case_id=case.pk, status="fixed", actor=None)
    with at(400):
        assert run() == "escalations: 0\n"


def test_short_target_warns_within_a_fraction_of_it(people, django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False):
        leak = make_case(category="LEAK")  # 24 h target: the window is 20 % = 4.8 h
    with at(18), django_capture_on_commit_callbacks(execute=True):
        assert run() == "escalations: 0\n"
    with at(20), django_capture_on_commit_callbacks(execute=True):
        assert run() == "escalations: 1\n"
    # An outside operator's case has no department head: the managers hear of it.
    assert Escalation.objects.get(case=leak).recipients == ["manager@primaria.ro"]


def test_bad_windows_are_refused(people):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("escalate_cases", "--warn-fraction", "3", stdout=io.StringIO())
