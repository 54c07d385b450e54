"""Robot PINs: issued by staff, kept as hashes only."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from cetatea.telephony.models import RobotPin
from cetatea.telephony.robot import identity
from conftest import make_cnp, make_person

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("pin", ["12345", "1234567890123", "12a456", "000000"])
def test_weak_or_malformed_pins_are_refused(pin):
    with pytest.raises(ValidationError):
        identity.robot_pin_set(person=make_person(), pin=pin, actor=None)


def test_a_pin_is_kept_as_a_hash_and_checked():
    cnp = make_cnp()
    person = make_person(national_id=cnp)
    identity.robot_pin_set(person=person, pin="482916", actor=None)
    row = RobotPin.objects.get(person=person)
    assert "482916" not in row.pin_hash
    claim = identity.claim(identity.CNP, cnp)
    assert claim.person_id == person.id and cnp not in claim.identity_hash
    assert identity.verify(claim, "482916", caller="+40740000001") == person.id
    assert identity.verify(claim, "482917", caller="+40740000001") is None


def test_cnp_check_digit():
    cnp = make_cnp()
    assert identity.cnp_is_valid(cnp)
    assert not identity.cnp_is_valid(cnp[:-1] + str((int(cnp[-1]) + 1) % 10))
    assert not identity.cnp_is_valid("123")
