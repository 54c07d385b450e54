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


@pytest.mark.django_db
def test_seed_scale_cases_are_realistic_for_the_map(db):
    """Cases spread over five years, placed inside an area of the city, mostly public
    when they have a place, closed with a time and a status event when old enough."""
    import datetime as dt

    from django.utils import timezone

    from cetatea.cases.choices import CLOSED_STATUSES, OPEN_STATUSES
    from cetatea.catalog.geo import area_for_point
    from cetatea.people.management.commands.seed_scale import DESK_CATEGORIES

    _quiet("load_catalog")
    _quiet("seed_scale", persons=50, cases=600, batch=200)
    cases = list(Case.objects.select_related("category"))
    assert len(cases) == 600
    now = timezone.now()
    ages = [(now - c.registered_at).days for c in cases]
    assert 0 <= min(ages) and max(ages) <= 5 * 366
    assert max(ages) > 4 * 365  # spread over the years, not bunched at the end
    recent = [c for c in cases if (now - c.registered_at).days < 90]
    assert 0.01 < len(recent) / len(cases) < 0.12  # about 5 % in the map's default window
    public = [c for c in cases if c.publication == "public"]
    assert len(public) / len(cases) > 0.6
    for case in cases:
        if case.category.code in DESK_CATEGORIES:
            assert case.latitude is None and case.publication == "private"
            continue
        assert case.latitude is not None, case.reference
        assert 46.04 <= case.latitude <= 46.10 and 23.54 <= case.longitude <= 23.61
        assert case.area_id == area_for_point(case.latitude, case.longitude).pk
    assert {c.channel for c in cases} >= {"map", "phone", "web", "open311"}
    closed = [c for c in cases if c.status in CLOSED_STATUSES]
    assert 0.6 < len(closed) / len(cases) < 0.99
    assert {c.status for c in closed} >= {"fixed", "not_responsible"}
    status_events = {
        e.case_id: e for e in CaseEvent.objects.filter(kind="status").order_by("created_at")
    }
    for case in cases:
        if case.status in CLOSED_STATUSES:
            assert case.registered_at <= case.closed_at <= now
            assert status_events[case.pk].to_status == case.status
            assert status_events[case.pk].created_at == case.closed_at
        else:
            assert case.status in OPEN_STATUSES and case.closed_at is None
            assert (case.paused_since is not None) == (case.status == "on_hold")
            assert (case.pk in status_events) == (case.status != "new")
    # The map's pre-aggregated cells are those the services would have kept.
    from cetatea.cases import maprollup
    from cetatea.cases.models import MapCell

    def cells():
        return set(
            MapCell.objects.values_list(
                "level", "category_key", "month", "cx", "cy", "is_open", "n"
            )
        )

    seeded = cells()
    # Each public case counts in every level, for its category and all, by month and all time.
    assert seeded and sum(n for *_k, n in seeded) == len(public) * 4 * len(maprollup.LEVELS)
    maprollup.rebuild()
    assert cells() == seeded
    # Recent cases are more often still open than old ones.
    old = [c for c in cases if now - c.registered_at > dt.timedelta(days=365)]
    open_recent = sum(c.status in OPEN_STATUSES for c in recent) / max(len(recent), 1)
    open_old = sum(c.status in OPEN_STATUSES for c in old) / len(old)
    assert open_recent > open_old


@pytest.mark.slow  # 6-11 s
@pytest.mark.django_db
def test_seed_demo_loads_once():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    counts = {
        model.__name__: model.objects.count()
        for model in (Person, ContactPoint, Case, CaseEvent, Interaction, get_user_model())
    }
    from cetatea.insights.models import Count as InsightCount
    from cetatea.registry.models import Entry
    from cetatea.telephony.models import RobotCall

    assert counts["Person"] == 300
    # The demo's cases, and those the demo registry's petitions and requests opened.
    registry_cases = Entry.objects.filter(case__isnull=False).count()
    assert Entry.objects.filter(direction="in").count() >= 200 and registry_cases >= 150
    assert counts["Case"] == 800 + registry_cases
    # One per case intake, plus the others.
    assert counts["Interaction"] == 800 + registry_cases + 1500
    # The robot's calls and the management overview's counts are there too.
    assert RobotCall.objects.count() > 300
    assert InsightCount.objects.filter(metric="pet_ontime").exists()
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
    # The demo Open311 client's key, printed with the logins, is accepted by the API.
    from cetatea.open311.services import authenticate
    from cetatea.people.management.commands.seed_demo import DEMO_OPEN311_KEY

    assert DEMO_OPEN311_KEY in out.getvalue()
    assert authenticate(DEMO_OPEN311_KEY).name
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff

    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    assert "demo data already loaded" in again.getvalue()
    assert counts == {
        model.__name__: model.objects.count()
        for model in (Person, ContactPoint, Case, CaseEvent, Interaction, get_user_model())
    }


@pytest.mark.django_db
def test_seed_scale_interactions_are_a_history_of_contacts(scale_data):
    """``--interactions`` adds contacts beyond each case's intake, on persons that exist,
    a share of them about one of the person's own cases, calls with a duration."""
    from django.db.models import F

    intake = Interaction.objects.count()
    assert intake == 50  # one intake interaction per case
    _quiet("seed_scale", interactions=900, batch=128)
    added = Interaction.objects.exclude(pk__in=Interaction.objects.order_by("pk")[:intake])
    assert Interaction.objects.count() == intake + 900
    assert added.filter(person__isnull=True).count() == 0
    channels = set(added.values_list("channel", flat=True))
    assert {"phone", "robot", "email", "counter"} <= channels
    assert set(added.values_list("direction", flat=True)) == {"in", "out"}
    calls = added.filter(channel__in=["phone", "robot"])
    assert calls.filter(duration_seconds__isnull=True).count() == 0
    assert (
        added.exclude(channel__in=["phone", "robot"]).filter(duration_seconds__isnull=False).count()
        == 0
    )
    about_cases = added.filter(case__isnull=False)
    assert 0.2 * 900 < about_cases.count() < 0.5 * 900
    # A contact about a case is on that case's requester, as the services log it.
    assert about_cases.exclude(person_id=F("case__requester_id")).count() == 0
    # The person's 360° timeline reads them.
    person = added.first().person
    assert person.interactions.count() >= 1


@pytest.mark.django_db
def test_seed_scale_interactions_need_persons(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        _quiet("seed_scale", interactions=10)
    with pytest.raises(CommandError):
        _quiet("seed_scale", interactions=-1)
