"""The staff directory: diacritics-insensitive name search, filters, no citizens."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from cetatea.catalog.models import StaffProfile, Team
from cetatea.intranet.models import DirectoryEntry


def names(response) -> list[str]:
    return [row.user.username for row in response.context["page"].object_list]


@pytest.fixture
def named(staffed):
    def rename(key, first, last):
        user = staffed[key]
        user.first_name, user.last_name = first, last
        user.save()

    rename("staff", "Ștefan", "Bota")  # comma below
    rename("crew", "Ştefan", "Şandor")  # cedilla
    rename("manager", "Cristina", "Suciu")
    rename("operator", "Andreea", "Mureșan")
    rename("clerk", "Rodica", "Oltean")
    rename("citizen", "Ștefan", "Cetățean")
    return staffed


@pytest.mark.parametrize("query", ["stefan", "Ștefan", "Ştefan", "STEFAN", "ștef"])
def test_a_first_name_is_found_whatever_the_diacritics(client, named, query):
    client.force_login(named["operator"])
    response = client.get(reverse("intranet:directory"), {"q": query})
    assert response.status_code == 200
    assert sorted(names(response)) == ["crew", "staff"]  # never the citizen


@pytest.mark.parametrize("query", ["sandor", "Şandor", "Șandor", "sandor stef", "stefan sand"])
def test_last_name_first_or_first_name_first(client, named, query):
    client.force_login(named["operator"])
    assert names(client.get(reverse("intranet:directory"), {"q": query})) == ["crew"]


def test_the_directory_shows_department_team_roles_extension_email(client, named):
    named["staff"].email = "stefan.bota@primaria.example"
    named["staff"].save()
    named["staff"].groups.add(Group.objects.get(name="field_crew"))
    client.force_login(named["clerk"])
    response = client.get(reverse("intranet:directory"), {"q": "bota"})
    (row,) = response.context["page"].object_list
    assert row.department == named["roads"]
    assert [t.code for t in row.teams] == ["roads-crew"]
    with translation.override("en"):
        assert [str(r) for r in row.roles] == ["Department staff", "Field crew"]
    assert row.extension == "201"
    html = response.content.decode()
    assert "stefan.bota@primaria.example" in html and 'href="tel:201"' in html


def test_filters_by_department_and_role(client, named):
    client.force_login(named["staff"])
    url = reverse("intranet:directory")
    roads = names(client.get(url, {"department": named["roads"].pk}))
    assert sorted(roads) == ["crew", "manager", "staff"]
    assert names(client.get(url, {"role": "manager"})) == ["manager"]
    assert names(client.get(url, {"department": named["public"].pk, "role": "manager"})) == []
    assert names(client.get(url, {"q": "stefan", "role": "field_crew"})) == ["crew"]
    assert client.get(url, {"role": "pope"}).status_code == 400


def test_citizens_and_inactive_accounts_are_not_listed(client, named):
    named["revenue"].is_active = False
    named["revenue"].save()
    client.force_login(named["staff"])
    everyone = names(client.get(reverse("intranet:directory")))
    assert "citizen" not in everyone and "revenue" not in everyone
    assert sorted(everyone) == ["admin", "clerk", "crew", "manager", "op", "staff"]


def test_ordered_by_last_name_ignoring_diacritics(client, named):
    client.force_login(named["staff"])
    ordered = names(client.get(reverse("intranet:directory"), {"department": named["roads"].pk}))
    assert ordered == ["staff", "crew", "manager"]  # Bota, Şandor, Suciu


def test_a_renamed_account_is_found_by_its_new_name(client, named):
    user = named["clerk"]
    user.last_name = "Țăranu"
    user.save(update_fields=["last_name"])
    client.force_login(named["staff"])
    assert names(client.get(reverse("intranet:directory"), {"q": "taranu"})) == ["clerk"]
    assert names(client.get(reverse("intranet:directory"), {"q": "oltean"})) == []


def test_a_bulk_created_account_is_indexed_before_the_search(client, named):
    (bulk,) = User.objects.bulk_create(
        [User(username="nou", first_name="Ioana", last_name="Ilieș")]
    )
    bulk.groups.add(Group.objects.get(name="operator"))
    assert not DirectoryEntry.objects.filter(user=bulk).exists()
    client.force_login(named["staff"])
    assert names(client.get(reverse("intranet:directory"), {"q": "ilies"})) == ["nou"]


def test_the_sync_command_rewrites_every_key(named):
    User.objects.filter(pk=named["manager"].pk).update(last_name="Ștefănescu")
    call_command("intranet_directory_sync", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert DirectoryEntry.objects.get(user=named["manager"]).name_key == "stefanescu cristina"


def test_a_page_costs_the_same_with_many_staff(client, named, django_assert_max_num_queries):
    from conftest import make_user

    team = Team.objects.create(department=named["roads"], code="t2", name_ro="Echipa 2")
    for i in range(60):
        user = make_user(f"u{i:02d}", "department_staff", first_name="Ana", last_name=f"Pop{i:02d}")
        StaffProfile.objects.create(user=user, department=named["roads"], phone_extension=str(i))
        team.members.add(user)
        named["crew_team"].members.add(user)
    client.force_login(named["staff"])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("intranet:directory"), {"q": "pop"})
    page = response.context["page"]
    assert page.paginator.count == 60 and len(page.object_list) == 25
    assert all(len(row.teams) == 2 for row in page.object_list)
    second = client.get(reverse("intranet:directory"), {"q": "pop", "page": 3})
    assert len(second.context["page"].object_list) == 10


def test_the_search_box_answers_htmx_with_the_results_only(client, named):
    client.force_login(named["staff"])
    response = client.get(
        reverse("intranet:directory"), {"q": "bota"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html and "Bota" in html
