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


def test_pins_are_salted_pbkdf2_over_a_keyed_hash(settings):
    encoded = identity.pin_hash("482916")
    algorithm, iterations, salt, _digest = encoded.split("$")
    assert algorithm == "robot_pbkdf2_sha256" and int(iterations) == 20_000 and salt
    assert identity.pin_hash("482916") != encoded  # salted
    assert identity.pin_matches("482916", encoded)
    assert not identity.pin_matches("482917", encoded)
    # The digits alone do not reproduce the hash: the PIN is keyed first, with a key
    # kept outside the database.
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    plain = PBKDF2PasswordHasher().encode("482916", salt, 20_000)
    assert plain.split("$")[-1] != encoded.split("$")[-1]


def test_pins_stored_with_the_default_hasher_still_match():
    from django.contrib.auth.hashers import make_password

    assert identity.pin_matches("482916", make_password("482916"))
    assert not identity.pin_matches("000001", make_password("482916"))
