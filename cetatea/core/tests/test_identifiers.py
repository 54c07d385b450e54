import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from stdnum.ro import cnp as stdnum_cnp

from cetatea.core import crypto
from cetatea.core.identifiers import (
    normalize_email_address,
    normalize_phone,
    parse_national_id,
    validate_cnp,
    validate_cui,
)


def with_check(body: str) -> str:
    return body + stdnum_cnp.calc_check_digit(body)


def test_valid_cnp_from_the_domain_rules_is_accepted():
    assert validate_cnp("1850312010046") == "1850312010046"
    assert validate_cnp(" 185 0312 010046 ") == "1850312010046"


@pytest.mark.parametrize(
    "value, code",
    [
        ("1850312010047", "cnp_checksum"),  # wrong check digit
        ("185031201004", "cnp_length"),
        ("18503120100461", "cnp_length"),
        ("185031201004a", "cnp_length"),
        (with_check("185023001000")[:-1] + "0", "cnp_checksum"),
    ],
)
def test_malformed_cnp_is_refused_with_a_reason(value, code):
    with pytest.raises(ValidationError) as exc:
        validate_cnp(value)
    assert exc.value.code == code


def test_cnp_with_impossible_date_is_refused():
    with pytest.raises(ValidationError) as exc:
        validate_cnp(with_check("185023001004"))  # 30 February
    assert exc.value.code == "cnp_date"


@time_machine.travel(dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC))
def test_cnp_born_in_the_future_is_refused():
    with pytest.raises(ValidationError) as exc:
        validate_cnp(with_check("527010101004"))  # 1 January 2027
    assert exc.value.code == "cnp_future"
    assert validate_cnp(with_check("526010101004"))  # 1 January 2026 is fine


def test_cnp_sequence_000_is_refused():
    with pytest.raises(ValidationError) as exc:
        validate_cnp(with_check("185031201000"))
    assert exc.value.code == "cnp_seq"


def test_cnp_county_70_is_accepted_and_unknown_county_refused():
    assert validate_cnp(with_check("524051370123"))
    with pytest.raises(ValidationError) as exc:
        validate_cnp(with_check("185031260123"))  # county 60 does not exist
    assert exc.value.code == "cnp_county"


def test_foreign_resident_born_29_february_2000_is_accepted():
    # stdnum alone assumes the 1900s for S=7 and rejects it (domain rules §6.4).
    assert validate_cnp(with_check("700022901123"))


def test_cui_is_validated_and_normalised():
    assert validate_cui("RO 185 472 90") == "18547290"
    with pytest.raises(ValidationError) as exc:
        validate_cui("18547291")
    assert exc.value.code == "cui_checksum"
    assert parse_national_id("RO18547290").kind == "cui"
    assert parse_national_id("1850312010046").kind == "cnp"


@pytest.mark.parametrize(
    "raw", ["0722 123 456", "0722-123-456", "+40 722 123 456", "0040722123456", "(0722) 123456"]
)
def test_phones_are_normalised_to_e164(raw):
    assert normalize_phone(raw) == "+40722123456"


def test_landline_and_foreign_numbers():
    assert normalize_phone("0258 819 462") == "+40258819462"
    assert normalize_phone("+49 30 901820") == "+4930901820"


@pytest.mark.parametrize("raw", ["12", "hello", "0722", "+40 99 999"])
def test_malformed_phone_is_refused(raw):
    with pytest.raises(ValidationError):
        normalize_phone(raw)


def test_email_is_lower_cased_and_validated():
    assert normalize_email_address("  Ion.Pop@Example.RO ") == "ion.pop@example.ro"
    with pytest.raises(ValidationError):
        normalize_email_address("not-an-email")


def test_national_id_is_encrypted_hashed_and_masked():
    token = crypto.encrypt("1850312010046")
    assert "1850312010046" not in token
    assert crypto.decrypt(token) == "1850312010046"
    assert crypto.lookup_hash("1850312010046") == crypto.lookup_hash("1850312010046")
    assert crypto.lookup_hash("1850312010046") != crypto.lookup_hash("1850312010054")
    assert crypto.mask("1850312010046") == "1**********46"
