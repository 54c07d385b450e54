"""The citizen's "Phone PIN" page: change the phone robot PIN on the portal."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from cetatea.core import crypto
from cetatea.core.models import AuditLog
from cetatea.portal.models import CitizenAccount
from cetatea.telephony.models import RobotPin
from cetatea.telephony.robot import identity
from conftest import make_cnp, make_person, make_user

pytestmark = pytest.mark.django_db

URL = "/account/phone-pin/"
PIN = "482916"


@pytest.fixture(autouse=True)
def _clean_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def citizen(client):
    cnp = make_cnp()
    person = make_person(national_id=cnp)
    user = make_user("ioana")
    CitizenAccount.objects.create(user=user, person=person, email="ioana@example.ro")
    client.cookies["django_language"] = "en"
    client.force_login(user)
    return {"user": user, "person": person, "cnp": cnp}


def robot_accepts(cnp: str, pin: str) -> bool:
    claimed = identity.claim(identity.CNP, cnp)
    return identity.verify(claimed, pin, caller="+40740000077") is not None


def change(client, current: str, new: str, again: str | None = None):
    return client.post(URL, {"current": current, "pin": new, "pin_again": again or new})


def test_the_page_is_linked_from_the_account_page(client, citizen):
    assert reverse("portal:phone_pin") == URL
    assert URL in client.get(reverse("portal:account")).content.decode()


def test_anonymous_visitors_go_to_the_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"] == reverse("portal:account")
    assert client.post(URL, {"current": PIN}).status_code == 302


def test_staff_without_a_citizen_account_are_refused(client, personas):
    client.force_login(personas["clerk"])
    assert client.get(URL).status_code == 403


def test_without_a_pin_the_page_sends_the_citizen_to_the_counter(client, citizen):
    page = client.get(URL).content.decode()
    assert 'id="no-pin"' in page and "counter" in page and 'name="current"' not in page
    response = change(client, "123456", "730194")
    assert response.status_code == 400
    assert "A first PIN is issued at the city hall counter" in response.content.decode()
    assert not RobotPin.objects.exists()


def test_the_right_current_pin_changes_it_for_the_robot(client, citizen, personas):
    identity.robot_pin_set(person=citizen["person"], pin=PIN, actor=personas["clerk"])
    response = change(client, PIN, "730194")
    assert response.status_code == 302 and response["Location"] == URL
    assert "Your phone PIN was changed" in client.get(URL).content.decode()
    assert robot_accepts(citizen["cnp"], "730194")
    assert not robot_accepts(citizen["cnp"], PIN)
    audit = AuditLog.objects.get(action=AuditLog.Action.ROBOT_PIN_CHANGED)
    assert audit.actor == citizen["user"] and audit.person_id == citizen["person"].pk
    assert "730194" not in str(audit.details) and PIN not in str(audit.details)
    # Staff see who set it last.
    client.force_login(personas["clerk"])
    panel = client.get(reverse("telephony:robot_person", args=[citizen["person"].pk]))
    assert "Changed by the citizen on the portal" in panel.content.decode()


def test_a_wrong_current_pin_is_refused(client, citizen):
    identity.robot_pin_set(person=citizen["person"], pin=PIN, actor=None)
    response = change(client, "111112", "730194")
    assert response.status_code == 400
    assert "The current PIN is wrong." in response.content.decode()
    assert robot_accepts(citizen["cnp"], PIN) and not robot_accepts(citizen["cnp"], "730194")
    assert not AuditLog.objects.filter(action=AuditLog.Action.ROBOT_PIN_CHANGED).exists()


@pytest.mark.parametrize(
    ("new", "again", "message"),
    [
        ("730194", "730195", "The two PINs are not the same."),
        ("555555", None, "one repeated digit"),
        ("7301", None, "A PIN has 6 to 12 digits."),
        (PIN, None, "The new PIN is the same as the current one."),
    ],
)
def test_a_bad_new_pin_is_refused(client, citizen, new, again, message):
    identity.robot_pin_set(person=citizen["person"], pin=PIN, actor=None)
    response = change(client, PIN, new, again)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AuditLog.objects.filter(action=AuditLog.Action.ROBOT_PIN_CHANGED).exists()


def test_wrong_current_pins_are_rate_limited(client, citizen):
    identity.robot_pin_set(person=citizen["person"], pin=PIN, actor=None)
    for n in range(5):
        assert change(client, f"90000{n}", "730194").status_code == 400
    response = change(client, PIN, "730194")  # even the right one, for the hour
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert robot_accepts(citizen["cnp"], PIN)


def test_right_pins_do_not_count_towards_the_limit(client, citizen):
    identity.robot_pin_set(person=citizen["person"], pin=PIN, actor=None)
    current = PIN
    for n in range(6):
        new = f"73019{n}"
        assert change(client, current, new).status_code == 302
        current = new


def test_a_change_unlocks_nothing(client, citizen):
    identity.robot_pin_set(person=citizen["person"], pin=PIN, actor=None)
    claimed = identity.claim(identity.CNP, citizen["cnp"])
    for _ in range(identity.IDENTITY_FAILURES):
        identity.verify(claimed, "000001", caller="+40740000078")
    page = client.get(URL).content.decode()
    assert 'id="pin-locked"' in page
    assert change(client, PIN, "730194").status_code == 302
    assert identity.is_locked(crypto.lookup_hash(citizen["cnp"]))
    assert not robot_accepts(citizen["cnp"], "730194")
