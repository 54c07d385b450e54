"""Fixtures of the privacy tests: the English interface, a DPO, a citizen with data."""

from __future__ import annotations

import pytest

from cetatea.core import roles


@pytest.fixture(autouse=True)
def english_interface(request):
    """The pages are asserted in English (Romanian is the default)."""
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies["django_language"] = "en"


@pytest.fixture
def dpo(personas):
    from conftest import make_user

    return make_user("dpo", roles.DATA_PROTECTION)


@pytest.fixture
def citizen(catalog):
    """Ion Popescu with a CNP, a phone, an e-mail, an address and a closed pothole case."""
    from cetatea.cases.services import case_change_status
    from cetatea.people.services import AddressData
    from conftest import make_case, make_cnp, make_person

    cnp = make_cnp(7)
    person = make_person(
        national_id=cnp,
        phones=["0722123456"],
        emails=["ion.popescu@example.ro"],
        addresses=[AddressData(street="Strada Trandafirilor", number="3")],
        notes="Prefers calls in the morning",
    )
    case = make_case(
        requester=person,
        description="Groapă mare în fața blocului",
        latitude=46.07,
        longitude=23.57,
        interaction_summary="Called about the pothole near his block",
    )
    case_change_status(case_id=case.pk, status="fixed", actor=None, text="Repaired")
    case.refresh_from_db()
    return {"person": person, "cnp": cnp, "case": case}


@pytest.fixture
def registry(catalog):
    """The registry's setup (cetatea/registry/tests/conftest.py), for registry entries."""
    from cetatea.registry.tests.conftest import registry as registry_fixture

    return registry_fixture.__wrapped__(catalog)
