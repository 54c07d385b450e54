"""Staff screens of the phone robot: a person's PIN and locks at the counter, the lock
e-mail, and the robot's call figures with the list of locks."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from cetatea.core import crypto
from cetatea.core.models import AuditLog
from cetatea.revenue.models import TaxpayerAccount
from cetatea.telephony.models import RobotCall, RobotLock, RobotPin
from cetatea.telephony.robot import identity
from conftest import make_cnp, make_person

pytestmark = pytest.mark.django_db

BUCHAREST = ZoneInfo("Europe/Bucharest")
CALLER = "+40740000009"


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def ion():
    """A person with a CNP, a taxpayer account and an e-mail address, no PIN yet."""
    cnp = make_cnp()
    person = make_person(national_id=cnp, emails=["ion@example.ro"])
    TaxpayerAccount.objects.create(
        external_id=f"R-{cnp[-6:]}",
        person=person,
        national_id_hash=crypto.lookup_hash(cnp),
        name="POPESCU ION",
        content_hash="test",
    )
    return {"person": person, "cnp": cnp, "account": f"R-{cnp[-6:]}"}


def fail(kind: str, value: str, times: int = identity.IDENTITY_FAILURES) -> None:
    claimed = identity.claim(kind, value)
    for _ in range(times):
        assert identity.verify(claimed, "000001", caller=CALLER) is None


def urls(person_id: int) -> dict[str, str]:
    return {
        "panel": reverse("telephony:robot_person", args=[person_id]),
        "pin": reverse("telephony:robot_pin", args=[person_id]),
        "unlock": reverse("telephony:robot_unlock", args=[person_id]),
    }


def version(person) -> str:
    row = RobotPin.objects.filter(person=person).first()
    return row.issued_at.isoformat() if row else "none"


# --- who may ---------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, ion):
    for name, url in urls(ion["person"].pk).items():
        response = client.get(url) if name == "panel" else client.post(url, {"version": "none"})
        assert response.status_code == 302 and "/login/" in response["Location"], name
    response = client.get(reverse("telephony:robot"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not RobotPin.objects.exists()


@pytest.mark.parametrize("who", ["citizen", "crew", "staff", "manager"])
def test_accounts_without_the_pin_permission_are_refused(client, personas, ion, who):
    client.force_login(personas[who])
    u = urls(ion["person"].pk)
    assert client.get(u["panel"]).status_code == 403
    assert client.post(u["pin"], {"version": "none", "generate": "on"}).status_code == 403
    fail(identity.CNP, ion["cnp"])
    assert client.post(u["unlock"]).status_code == 403
    assert not RobotPin.objects.exists()
    assert identity.is_locked(crypto.lookup_hash(ion["cnp"]))


@pytest.mark.parametrize("who", ["citizen", "operator", "clerk", "crew", "revenue"])
def test_the_robot_figures_need_a_supervisor_permission(client, personas, who):
    client.force_login(personas[who])
    assert client.get(reverse("telephony:robot")).status_code == 403


@pytest.mark.parametrize("who", ["operator", "clerk", "revenue", "admin"])
def test_counter_and_dispatch_roles_may_manage_pins(client, personas, ion, who):
    client.force_login(personas[who])
    assert client.get(urls(ion["person"].pk)["panel"]).status_code == 200


def test_an_inactive_clerk_is_refused(client, personas, ion):
    personas["clerk"].is_active = False
    personas["clerk"].save(update_fields=["is_active"])
    client.force_login(personas["clerk"])
    assert client.get(urls(ion["person"].pk)["panel"]).status_code in (302, 403)


# --- issue, reset, generate, unlock ----------------------------------------------------


def test_the_360_page_links_the_panel_for_counter_staff_only(client, personas, ion):
    detail = reverse("people:detail", args=[ion["person"].pk])
    client.force_login(personas["clerk"])
    assert urls(ion["person"].pk)["panel"] in client.get(detail).content.decode()
    client.force_login(personas["manager"])
    assert urls(ion["person"].pk)["panel"] not in client.get(detail).content.decode()


def test_a_clerk_issues_a_typed_pin_that_the_robot_accepts(client, personas, ion):
    person = ion["person"]
    client.force_login(personas["clerk"])
    panel = client.get(urls(person.pk)["panel"], headers={"HX-Request": "true"})
    assert "No PIN issued." in panel.content.decode()
    assert "<html" not in panel.content.decode()  # the 360° page's fragment

    response = client.post(
        urls(person.pk)["pin"], {"pin": "482916", "pin_again": "482916", "version": "none"}
    )
    assert response.status_code == 302
    claimed = identity.claim(identity.CNP, ion["cnp"])
    assert identity.verify(claimed, "482916", caller=CALLER) == person.pk
    audit = AuditLog.objects.get(action=AuditLog.Action.ROBOT_PIN_ISSUED)
    assert audit.actor == personas["clerk"] and audit.person_id == person.pk
    assert audit.details == {"reset": False, "generated": False, "unlocked": 0}

    page = client.get(response["Location"]).content.decode()
    assert "Issued on" in page and "clerk" in page
    assert "482916" not in page
    assert "Reset the PIN" in page


def test_two_different_pins_are_refused(client, personas, ion):
    client.force_login(personas["clerk"])
    response = client.post(
        urls(ion["person"].pk)["pin"], {"pin": "482916", "pin_again": "482917", "version": "none"}
    )
    assert response.status_code == 400
    assert "The two PINs are not the same." in response.content.decode()
    assert (
        not RobotPin.objects.exists()
        and not AuditLog.objects.filter(action=AuditLog.Action.ROBOT_PIN_ISSUED).exists()
    )


@pytest.mark.parametrize(
    ("pin", "message"),
    [("11111111", "one repeated digit"), ("12345", "A PIN has 6 to 12 digits."), ("", "generate")],
)
def test_a_weak_pin_is_refused_with_a_message(client, personas, ion, pin, message):
    client.force_login(personas["clerk"])
    response = client.post(
        urls(ion["person"].pk)["pin"], {"pin": pin, "pin_again": pin, "version": "none"}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RobotPin.objects.exists()


def test_pin_messages_reach_the_clerk_in_their_language(client, personas, ion, monkeypatch):
    """The service's messages go through gettext (the lead's catalogue translates them)."""
    from django.utils.translation import trans_real

    catalog = trans_real.translation("ro")._catalog._catalogs[0]
    monkeypatch.setitem(
        catalog, "A PIN of one repeated digit is too easy to guess.", "PIN prea ușor (test)."
    )
    client.cookies["django_language"] = "ro"
    client.force_login(personas["clerk"])
    response = client.post(
        urls(ion["person"].pk)["pin"], {"pin": "777777", "pin_again": "777777", "version": "none"}
    )
    assert response.status_code == 400
    assert "PIN prea ușor (test)." in response.content.decode()


def test_a_generated_pin_is_shown_once_and_works(client, personas, ion):
    person = ion["person"]
    client.force_login(personas["operator"])
    response = client.post(urls(person.pk)["pin"], {"version": "none", "generate": "on"})
    assert response.status_code == 200
    assert response["Cache-Control"].count("no-store") == 1
    pin = re.search(r'id="generated-pin"><strong>(\d+)</strong>', response.content.decode())[1]
    assert len(pin) == 6 and len(set(pin)) > 1
    claimed = identity.claim(identity.ACCOUNT, ion["account"])
    assert identity.verify(claimed, pin, caller=CALLER) == person.pk
    assert pin not in client.get(urls(person.pk)["panel"]).content.decode()
    audit = AuditLog.objects.get(action=AuditLog.Action.ROBOT_PIN_ISSUED)
    assert audit.details["generated"] is True and pin not in str(audit.details)


def test_a_double_submit_does_not_issue_a_second_pin_silently(client, personas, ion):
    person = ion["person"]
    client.force_login(personas["clerk"])
    first = client.post(urls(person.pk)["pin"], {"version": "none", "generate": "on"})
    pin = re.search(r'id="generated-pin"><strong>(\d+)</strong>', first.content.decode())[1]
    again = client.post(urls(person.pk)["pin"], {"version": "none", "generate": "on"})
    assert again.status_code == 409
    assert "The PIN was changed after this page was opened" in again.content.decode()
    assert 'id="generated-pin"' not in again.content.decode()
    assert AuditLog.objects.filter(action=AuditLog.Action.ROBOT_PIN_ISSUED).count() == 1
    claimed = identity.claim(identity.CNP, ion["cnp"])
    assert identity.verify(claimed, pin, caller=CALLER) == person.pk

    # The refusal shows the current version: a deliberate reset from it goes through.
    reset = client.post(
        urls(person.pk)["pin"], {"pin": "730194", "pin_again": "730194", "version": version(person)}
    )
    assert reset.status_code == 302
    audit = AuditLog.objects.filter(action=AuditLog.Action.ROBOT_PIN_ISSUED).first()
    assert audit.details["reset"] is True


def test_a_reset_unlocks_the_person(client, personas, ion, django_capture_on_commit_callbacks):
    person = ion["person"]
    identity.robot_pin_set(person=person, pin="482916", actor=None)
    fail(identity.CNP, ion["cnp"])
    client.force_login(personas["clerk"])
    panel = client.get(urls(person.pk)["panel"]).content.decode()
    assert "Locked after repeated wrong PINs" in panel and "CNP: locked since" in panel

    response = client.post(
        urls(person.pk)["pin"], {"pin": "730194", "pin_again": "730194", "version": version(person)}
    )
    assert response.status_code == 302
    assert not identity.is_locked(crypto.lookup_hash(ion["cnp"]))
    audit = AuditLog.objects.get(action=AuditLog.Action.ROBOT_PIN_ISSUED)
    assert audit.details == {"reset": True, "generated": False, "unlocked": 1}
    claimed = identity.claim(identity.CNP, ion["cnp"])
    assert identity.verify(claimed, "730194", caller="+40740000010") == person.pk


def test_unlock_lifts_every_identity_of_the_person(client, personas, ion):
    person = ion["person"]
    identity.robot_pin_set(person=person, pin="482916", actor=None)
    fail(identity.CNP, ion["cnp"])
    fail(identity.ACCOUNT, ion["account"])
    client.force_login(personas["clerk"])
    panel = client.get(urls(person.pk)["panel"]).content.decode()
    assert f"taxpayer account {ion['account']}: locked since" in panel

    response = client.post(urls(person.pk)["unlock"])
    assert response.status_code == 302
    assert not RobotLock.objects.filter(unlocked_at__isnull=True).exists()
    assert set(RobotLock.objects.values_list("unlocked_by", flat=True)) == {personas["clerk"].pk}
    audit = AuditLog.objects.get(action=AuditLog.Action.ROBOT_UNLOCKED)
    assert audit.actor == personas["clerk"] and audit.details == {"unlocked": 2}
    page = client.get(response["Location"]).content.decode()
    assert "unlocked (2 identities)" in page and "Not locked." in page
    # The PIN is unchanged.
    claimed = identity.claim(identity.CNP, ion["cnp"])
    assert identity.verify(claimed, "482916", caller="+40740000011") == person.pk

    # Nothing locked: nothing to audit.
    client.post(urls(person.pk)["unlock"])
    assert AuditLog.objects.filter(action=AuditLog.Action.ROBOT_UNLOCKED).count() == 1


def test_pages_refuse_get_for_writes(client, personas, ion):
    client.force_login(personas["clerk"])
    assert client.get(urls(ion["person"].pk)["pin"]).status_code == 405
    assert client.get(urls(ion["person"].pk)["unlock"]).status_code == 405


def test_writes_need_the_csrf_token(personas, ion):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["clerk"])
    response = client.post(urls(ion["person"].pk)["pin"], {"version": "none", "generate": "on"})
    assert response.status_code == 403
    assert not RobotPin.objects.exists()


# --- the lock e-mail -------------------------------------------------------------------


def test_a_lock_sends_one_email_to_the_person(ion, django_capture_on_commit_callbacks):
    identity.robot_pin_set(person=ion["person"], pin="482916", actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        fail(identity.CNP, ion["cnp"], times=identity.IDENTITY_FAILURES - 1)
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        fail(identity.CNP, ion["cnp"], times=3)  # the lock, then failures while locked
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ion@example.ro"]
    assert "locked" in message.body and "identity card" in message.body
    assert ion["cnp"] not in message.body and ion["account"] not in message.body
    assert "-----" in message.body  # Romanian, then English

    # Another lock (after staff unlocked) is another e-mail.
    identity.robot_unlock(person=ion["person"], actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        fail(identity.ACCOUNT, ion["account"])
    assert len(mail.outbox) == 2


def test_no_email_without_an_address_or_a_person(django_capture_on_commit_callbacks):
    cnp = make_cnp()
    make_person(national_id=cnp)
    with django_capture_on_commit_callbacks(execute=True):
        fail(identity.CNP, cnp)
        fail(identity.CNP, make_cnp())  # nobody has this CNP
    assert RobotLock.objects.count() == 2
    assert mail.outbox == []


def test_the_lock_email_waits_for_the_commit(ion, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        fail(identity.CNP, ion["cnp"])
    assert mail.outbox == [] and len(callbacks) == 1


# --- the robot's figures ---------------------------------------------------------------


def make_call(at: dt.datetime, **fields) -> RobotCall:
    n = RobotCall.objects.count() + 1
    return RobotCall.objects.create(call_id=f"c{n}", transport="sip", started_at=at, **fields)


@pytest.fixture
def calls(ion):
    """Six calls on 1-2 March 2026 (local time) and one on each side of the period."""
    day1 = dt.datetime(2026, 3, 1, 10, tzinfo=BUCHAREST)
    p = ion["person"]
    make_call(day1, identified=True, person=p, outcome="caller_hangup")  # served
    make_call(day1, identified=True, person=p, transferred=True, outcome="transferred")
    make_call(day1, outcome="caller_hangup")  # hung up before identification
    make_call(day1, outcome="identification_failed")
    # 23:30 UTC on 1 March is 01:30 on 2 March in Bucharest.
    make_call(
        dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC), transferred=True, outcome="transferred"
    )
    make_call(dt.datetime(2026, 3, 2, 23, 59, tzinfo=BUCHAREST), identified=True, person=p)
    make_call(dt.datetime(2026, 2, 28, 23, 59, tzinfo=BUCHAREST), identified=True, person=p)
    make_call(dt.datetime(2026, 3, 3, 0, 0, tzinfo=BUCHAREST), outcome="caller_hangup")


def test_the_figures_count_the_period_by_local_day(
    client, personas, calls, django_assert_max_num_queries
):
    client.force_login(personas["manager"])
    with django_assert_max_num_queries(12):
        response = client.get(
            reverse("telephony:robot"), {"start": "2026-03-01", "end": "2026-03-02"}
        )
    assert response.status_code == 200
    report = response.context["report"]
    total = report.total
    assert (total.calls, total.identified, total.self_served) == (6, 3, 2)
    assert (total.transferred, total.hangups_unidentified) == (2, 1)
    day1, day2 = report.days
    assert day1.day == dt.date(2026, 3, 1) and day2.day == dt.date(2026, 3, 2)
    assert (day1.calls, day1.identified, day1.self_served, day1.transferred) == (4, 2, 1, 1)
    assert day1.hangups_unidentified == 1
    assert (day2.calls, day2.identified, day2.self_served, day2.transferred) == (2, 1, 1, 1)
    page = response.content.decode()
    assert "Answered without an operator" in page and "02.03.2026" in page


def test_the_default_period_is_the_last_30_days_with_every_day(client, personas):
    client.force_login(personas["manager"])
    response = client.get(reverse("telephony:robot"))
    assert response.status_code == 200
    report = response.context["report"]
    assert len(report.days) == 30 and report.total.calls == 0
    assert (report.end - report.start).days == 29


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-03-02", "2026-03-01", "The end of the period is before its start."),
        ("2025-01-01", "2026-03-01", "A period is at most 366 days."),
        ("2026-02-30", "2026-03-01", "Enter a valid date."),
    ],
)
def test_a_wrong_period_is_refused_clearly(client, personas, start, end, message):
    client.force_login(personas["manager"])
    response = client.get(reverse("telephony:robot"), {"start": start, "end": end})
    assert response.status_code == 400
    assert response.context["report"] is None
    assert message in response.content.decode()


def test_a_full_year_is_accepted(client, personas):
    client.force_login(personas["manager"])
    response = client.get(reverse("telephony:robot"), {"start": "2025-03-02", "end": "2026-03-02"})
    assert response.status_code == 200 and len(response.context["report"].days) == 366


def test_the_locks_are_listed_with_a_link_to_unlock(client, personas, ion, settings):
    settings.CETATEA_PAGE_SIZE = 1
    fail(identity.CNP, ion["cnp"])
    fail(identity.CNP, make_cnp())  # nobody's: listed, nothing to unlock it from
    client.force_login(personas["admin"])  # may see the figures and manage PINs
    first = client.get(reverse("telephony:robot")).content.decode()
    assert "Unknown identity" in first and 'rel="next"' in first
    second = client.get(reverse("telephony:robot"), {"page": 2}).content.decode()
    assert urls(ion["person"].pk)["panel"] in second and ion["person"].display_name in second
    client.force_login(personas["manager"])  # sees the list, may not unlock
    page = client.get(reverse("telephony:robot"), {"page": 2}).content.decode()
    assert ion["person"].display_name in page and urls(ion["person"].pk)["panel"] not in page


def test_the_call_screen_links_the_figures_for_supervisors(client, personas):
    client.force_login(personas["manager"])
    assert reverse("telephony:robot") in client.get(reverse("telephony:console")).content.decode()
    client.force_login(personas["operator"])
    assert (
        reverse("telephony:robot") not in client.get(reverse("telephony:console")).content.decode()
    )


def test_a_merged_record_gets_no_pin(client, personas, ion):
    from cetatea.people.services import person_merge

    duplicate = make_person(last_name="Popescu", first_name="Ion")
    person_merge(
        survivor_id=ion["person"].pk, duplicate_id=duplicate.pk, actor=personas["clerk"], reason="x"
    )
    client.force_login(personas["clerk"])
    response = client.post(urls(duplicate.pk)["pin"], {"version": "none", "generate": "on"})
    assert response.status_code == 302
    assert response["Location"] == urls(ion["person"].pk)["panel"]
    assert not RobotPin.objects.exists()
