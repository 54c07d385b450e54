"""The data generators: seed_scale writes what the services would, seed_demo runs once."""

from __future__ import annotations

import io

import phonenumbers
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from cetatea.cases.models import Case, CaseEvent, Interaction
from cetatea.cases.services import case_create
from cetatea.catalog.selectors import category_route
from cetatea.core import crypto
from cetatea.core.identifiers import normalize_phone, validate_cnp, validate_cui
from cetatea.core.models import Counter
from cetatea.core.text import name_key
from cetatea.people.models import Address, ContactPoint, Person, PersonEvent
from cetatea.people.selectors import person_search


def _quiet(*args, **kwargs):
    call_command(*args, stdout=io.StringIO(), stderr=io.StringIO(), **kwargs)


def _search_all(query: str) -> set[int]:
    """Ids found by ``person_search`` over every page."""
    found: set[int] = set()
    page = 1
    while True:
        result = person_search(query, page=page)
        assert not result.error, result.error
        found |= {p.pk for p in result.persons}
        if not result.has_next:
            return found
        page += 1


@pytest.fixture
def scale_data(db):
    _quiet("load_catalog")
    _quiet("seed_scale", persons=200, cases=50, batch=64)


@pytest.mark.django_db
def test_seed_scale_persons_are_what_the_services_write(scale_data):
    persons = list(Person.objects.all())
    assert len(persons) == 200
    assert PersonEvent.objects.filter(kind="created").count() == 200
    assert Address.objects.count() == 200
    hashes = set()
    for person in persons:
        assert person.name_key == name_key(person.last_name, person.first_name)
        assert person.name_key_rev == name_key(person.first_name, person.last_name)
        clear = crypto.decrypt(person.national_id_encrypted)
        validate = validate_cnp if person.national_id_kind == "cnp" else validate_cui
        assert validate(clear) == clear
        assert person.national_id_hash == crypto.lookup_hash(clear)
        assert person.national_id_masked == crypto.mask(clear)
        hashes.add(person.national_id_hash)
    assert len(hashes) == 200
    for contact in ContactPoint.objects.filter(kind="phone"):
        assert normalize_phone(contact.value) == contact.value


@pytest.mark.django_db
def test_seed_scale_persons_are_found_by_name_phone_and_cnp(scale_data):
    contact = ContactPoint.objects.filter(kind="phone", value__startswith="+407").first()
    person = contact.person
    national = phonenumbers.format_number(
        phonenumbers.parse(contact.value, None), phonenumbers.PhoneNumberFormat.NATIONAL
    )
    assert national.startswith("07")
    result = person_search(national)
    assert result.mode == "phone"
    assert person.pk in {p.pk for p in result.persons}

    cnp_person = Person.objects.filter(national_id_kind="cnp").last()
    result = person_search(crypto.decrypt(cnp_person.national_id_encrypted))
    assert result.mode == "national_id"
    assert [p.pk for p in result.persons] == [cnp_person.pk]

    assert person.pk in _search_all(person.last_name)
    if person.first_name:
        assert person.pk in _search_all(f"{person.first_name} {person.last_name}")
        assert person.pk in _search_all(f"{person.last_name} {person.first_name}")


@pytest.mark.django_db
def test_seed_scale_cases_have_unique_references_and_the_counter_continues(scale_data):
    cases = list(Case.objects.select_related("category", "area"))
    assert len(cases) == 50
    assert len({c.reference for c in cases}) == 50
    assert CaseEvent.objects.filter(kind="created").count() == 50
    assert Interaction.objects.filter(case__isnull=False).count() == 50
    for case in cases:
        assert (case.department, case.operator, case.team) == category_route(
            category=case.category, area=case.area
        )
        if case.requester_id is None:
            assert case.regime == "ticket"
    for counter in Counter.objects.filter(name="case"):
        top = max(c.sequence for c in cases if c.year == counter.year)
        assert counter.value == top
    # The services keep numbering after the generated cases.
    new = case_create(channel="phone", category="OTHER", title="După generare")
    assert new.sequence == Counter.objects.get(name="case", year=new.year).value
    assert Case.objects.filter(reference=new.reference).count() == 1

    # Running again adds more, without clashing with what is there.
    _quiet("seed_scale", persons=30, cases=10, batch=16)
    assert Person.objects.count() == 230
    assert Case.objects.values("reference").distinct().count() == 61


@pytest.mark.slow  # 6-11 s
@pytest.mark.django_db
def test_seed_demo_loads_once():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    counts = {
        model.__name__: model.objects.count()
        for model in (Person, ContactPoint, Case, CaseEvent, Interaction, get_user_model())
    }
    assert counts["Person"] == 300
    assert counts["Case"] == 800
    assert counts["Interaction"] == 800 + 1500  # one per case intake, plus the others
    assert set(Case.objects.values_list("channel", flat=True)) >= {
        "web",
        "map",
        "open311",
        "phone",
        "robot",
        "email",
        "counter",
        "letter",
        "sms",
    }
    from cetatea.catalog.models import Category

    assert Case.objects.values("category").distinct().count() == Category.objects.count()
    assert "operator" in out.getvalue()
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff

    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    assert "demo data already loaded" in again.getvalue()
    assert counts == {
        model.__name__: model.objects.count()
        for model in (Person, ContactPoint, Case, CaseEvent, Interaction, get_user_model())
    }
