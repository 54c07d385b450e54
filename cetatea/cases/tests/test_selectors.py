import pytest
from django.core.exceptions import ValidationError

from cetatea.cases.selectors import case_get_by_reference, normalize_reference
from conftest import make_case


@pytest.mark.parametrize("raw", ["AB-2026-000123", "ab 2026 123", "AB/2026/123", " AB2026000123 "])
def test_reference_written_in_common_ways_is_understood(raw):
    assert normalize_reference(raw) == "AB-2026-000123"


@pytest.mark.parametrize("raw", ["", "hello", "XY-2026-000001", "AB-26-1", "123"])
def test_malformed_reference_gets_a_clear_message(raw):
    with pytest.raises(ValidationError) as exc:
        normalize_reference(raw)
    assert exc.value.code == "bad_reference"


@pytest.mark.django_db
def test_case_found_by_reference_and_missing_one_explained(catalog):
    case = make_case()
    assert case_get_by_reference(case.reference.lower()).pk == case.pk
    with pytest.raises(ValidationError) as exc:
        case_get_by_reference("AB-2020-999999")
    assert exc.value.code == "no_such_case"
