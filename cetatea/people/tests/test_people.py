import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from cetatea.cases.models import Case, Interaction
from cetatea.cases.services import interaction_log
from cetatea.core.models import AuditLog
from cetatea.people.models import ContactPoint, Person, PersonEvent
from cetatea.people.selectors import person_search, person_timeline
from cetatea.people.services import (
    AddressData,
    person_create,
    person_merge,
    person_reveal_national_id,
)
from conftest import make_case, make_cnp, make_person

pytestmark = pytest.mark.django_db


def names(result):
    return [p.display_name for p in result.persons]


# --- create -----------------------------------------------------------------------------


def test_person_is_stored_encrypted_hashed_masked_and_normalised():
    cnp = make_cnp()
    person = make_person(
        national_id=cnp,
        phones=["0722 123 456"],
        emails=["Ion@Example.RO"],
        addresses=[AddressData(street="Calea Moților", number="5A")],
    )
    row = Person.objects.values().get(pk=person.pk)
    assert cnp not in str(row)
    assert row["national_id_masked"] == cnp[0] + "*" * 10 + cnp[-2:]
    assert set(person.contact_points.values_list("value", flat=True)) == {
        "+40722123456",
        "ion@example.ro",
    }
    assert person.addresses.get().street == "Calea Moților"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"national_id": "1850312010047"}, "national_id"),  # wrong check digit
        ({"phones": ["07xx"]}, "contacts"),
        ({"emails": ["nope@"]}, "contacts"),
        ({"last_name": "  "}, "last_name"),
    ],
)
def test_bad_person_input_is_refused_and_nothing_written(kwargs, field):
    with pytest.raises(ValidationError) as exc:
        make_person(**kwargs)
    assert field in exc.value.message_dict
    assert Person.objects.count() == 0 and ContactPoint.objects.count() == 0


def test_same_national_id_twice_is_refused():
    cnp = make_cnp()
    make_person(national_id=cnp)
    with pytest.raises(ValidationError) as exc:
        make_person(national_id=cnp, first_name="Altul")
    assert "already recorded" in exc.value.message_dict["national_id"][0]


def test_organisation_takes_a_cui():
    org = person_create(kind="organisation", last_name="SC Apulum SRL", national_id="RO18547290")
    assert org.national_id_kind == "cui"


# --- search -----------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["Stefanescu", "Ştefănescu", "Ștefănescu", "ȘTEFĂNESCU", "stef"])
def test_name_search_ignores_diacritics_and_cedilla(query):
    make_person(last_name="Ștefănescu", first_name="Ana")  # comma below
    make_person(last_name="Ştefănescu", first_name="Radu")  # legacy cedilla
    make_person(last_name="Popescu", first_name="Ion")
    assert set(names(person_search(query))) == {"Ștefănescu Ana", "Ştefănescu Radu"}


def test_name_search_in_either_order():
    make_person(last_name="Popescu", first_name="Ion")
    make_person(last_name="Ionescu", first_name="Maria")
    assert names(person_search("popescu ion")) == ["Popescu Ion"]
    assert names(person_search("Ion Popescu")) == ["Popescu Ion"]
    # "ion" is a last-name prefix (Ionescu) and a first name (Ion): both, last names first.
    assert names(person_search("ion")) == ["Ionescu Maria", "Popescu Ion"]


def test_name_search_is_paginated():
    for i in range(30):
        make_person(last_name="Moldovan", first_name=f"Nume{i:02d}")
    first = person_search("moldovan", page=1, page_size=25)
    second = person_search("moldovan", page=2, page_size=25)
    assert len(first.persons) == 25 and first.has_next
    assert len(second.persons) == 5 and not second.has_next
    assert not set(names(first)) & set(names(second))


@pytest.mark.parametrize(
    "query", ["0722123456", "0722 123 456", "+40 722 123 456", "0040722123456"]
)
def test_phone_search_in_any_common_format(query):
    make_person(phones=["+40722123456"])
    make_person(last_name="Altul", phones=["0733000111"])
    assert names(person_search(query)) == ["Popescu Ion"]


def test_email_and_exact_cnp_search():
    cnp = make_cnp()
    make_person(national_id=cnp, emails=["ion.popescu@example.ro"])
    make_person(last_name="Altul", national_id=make_cnp())
    assert names(person_search("ION.POPESCU@example.ro")) == ["Popescu Ion"]
    assert names(person_search(cnp)) == ["Popescu Ion"]
    assert names(person_search(cnp[:-1])) == []  # no partial CNP match


def test_search_nonsense_gets_a_clear_message():
    result = person_search("12")
    assert result.error and not result.persons
    assert person_search("@@").error


def test_merged_person_is_not_found_any_more(personas):
    a = make_person(phones=["0722123456"])
    b = make_person(first_name="Ioan", phones=["0722123456"])
    person_merge(survivor_id=a.pk, duplicate_id=b.pk, actor=personas["clerk"])
    assert [p.pk for p in person_search("0722123456").persons] == [a.pk]
    assert [p.pk for p in person_search("popescu").persons] == [a.pk]


# --- reveal -----------------------------------------------------------------------------


def test_reveal_returns_the_cnp_and_writes_an_audit_row(personas):
    cnp = make_cnp()
    person = make_person(national_id=cnp)
    value = person_reveal_national_id(
        person_id=person.pk, actor=personas["clerk"], reason="eliberare certificat"
    )
    assert value == cnp
    audit = AuditLog.objects.get(action="reveal_national_id")
    assert (audit.actor, audit.person_id, audit.reason) == (
        personas["clerk"],
        person.pk,
        "eliberare certificat",
    )


def test_reveal_refused_to_a_role_that_does_not_need_it(personas):
    person = make_person(national_id=make_cnp())
    with pytest.raises(PermissionError):
        person_reveal_national_id(person_id=person.pk, actor=personas["operator"])
    assert not AuditLog.objects.filter(action="reveal_national_id").exists()


def test_audit_rows_cannot_be_changed_or_deleted(personas):
    person = make_person(national_id=make_cnp())
    person_reveal_national_id(person_id=person.pk, actor=personas["clerk"])
    row = AuditLog.objects.get()
    row.reason = "changed"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.update(reason="changed")


# --- merge ------------------------------------------------------------------------------


def test_merge_moves_everything_and_is_audited_and_on_the_timeline(catalog, personas):
    survivor = make_person(phones=["0722123456"])
    cnp = make_cnp()
    duplicate = make_person(
        first_name="Ioan",
        national_id=cnp,
        phones=["0722123456", "0733111222"],
        emails=["ioan@example.ro"],
        addresses=[AddressData(street="Strada Cloșca", number="3")],
    )
    case = make_case(requester=duplicate)
    interaction_log(channel="counter", person=duplicate, summary="Vizită la ghișeu")

    person_merge(survivor_id=survivor.pk, duplicate_id=duplicate.pk, actor=personas["clerk"])

    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    assert duplicate.merged_into == survivor
    assert Case.objects.get(pk=case.pk).requester == survivor
    assert Interaction.objects.filter(person=duplicate).count() == 0
    assert Interaction.objects.filter(person=survivor).count() == 2
    assert sorted(survivor.contact_points.values_list("value", flat=True)) == [
        "+40722123456",
        "+40733111222",
        "ioan@example.ro",
    ]
    assert survivor.addresses.get().street == "Strada Cloșca"
    assert person_search(cnp).persons[0].pk == survivor.pk  # the national id moved too
    assert AuditLog.objects.filter(action="merge_persons", person_id=survivor.pk).exists()
    kinds = [i.obj.kind for i in person_timeline(survivor).items if i.kind == "person_event"]
    assert "merged" in kinds


@pytest.mark.parametrize("case", ["self", "different_ids", "already_merged", "missing"])
def test_merge_refusals_change_nothing(personas, case):
    a = make_person(national_id=make_cnp())
    b = make_person(first_name="Ioan", national_id=make_cnp())
    c = make_person(first_name="Ionel")
    if case == "self":
        args = (a.pk, a.pk)
    elif case == "different_ids":
        args = (a.pk, b.pk)
    elif case == "already_merged":
        person_merge(survivor_id=a.pk, duplicate_id=c.pk, actor=personas["clerk"])
        args = (b.pk, c.pk)
    else:
        args = (a.pk, 999999)
    events = PersonEvent.objects.count()
    with pytest.raises(ValidationError):
        person_merge(survivor_id=args[0], duplicate_id=args[1], actor=personas["clerk"])
    assert PersonEvent.objects.count() == events


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_clerks_merging_the_same_person_at_once(personas):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are tested on PostgreSQL")
    a, b, dup = make_person(), make_person(first_name="B"), make_person(first_name="Dup")
    results: list[object] = []
    barrier = threading.Barrier(2)

    def clerk(survivor):
        from django.db import connections

        try:
            barrier.wait()
            person_merge(survivor_id=survivor.pk, duplicate_id=dup.pk, actor=personas["clerk"])
            results.append("ok")
        except ValidationError as exc:
            results.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=clerk, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1
    assert results.count("already_merged") == 1
    assert PersonEvent.objects.filter(kind="merged").count() == 1


# --- timeline ---------------------------------------------------------------------------


def test_timeline_is_newest_first_and_paginated_without_gaps(catalog):
    person = make_person()
    for i in range(12):
        interaction_log(channel="phone", person=person, summary=f"apel {i}")
    for _ in range(3):
        make_case(requester=person)
    seen, cursor = [], ""
    while True:
        page = person_timeline(person, cursor=cursor, page_size=5)
        seen += page.items
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    # 12 calls + 3 (case interaction + case event) + record created
    assert len(seen) == 12 + 3 * 2 + 1
    assert len({(i.kind, i.obj.pk) for i in seen}) == len(seen)
    times = [i.at for i in seen]
    assert times == sorted(times, reverse=True)


def test_bad_cursor_starts_from_the_top(catalog):
    person = make_person()
    assert person_timeline(person, cursor="garbage").items


# --- pages and permissions --------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(client):
    person = make_person()
    for url in (reverse("people:search"), reverse("people:detail", args=[person.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("who", ["citizen", "crew"])
def test_citizen_and_field_crew_cannot_open_the_360_page(client, personas, who):
    person = make_person()
    client.force_login(personas[who])
    assert client.get(reverse("people:detail", args=[person.pk])).status_code == 403
    assert client.get(reverse("people:search")).status_code == 403


def test_operator_opens_the_360_page_and_the_view_is_audited(client, personas, catalog):
    person = make_person(national_id=make_cnp(), phones=["0722123456"])
    make_case(requester=person, title="Groapă pe Calea Moților")
    client.force_login(personas["operator"])
    response = client.get(reverse("people:detail", args=[person.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert person.national_id_masked in html
    assert "Groapă pe Calea Moților" in html
    assert "Reveal" not in html and "Dezvăluie" not in html  # operators cannot reveal
    assert AuditLog.objects.filter(action="view_person", person_id=person.pk).exists()


def test_reveal_through_the_page_needs_a_reason_and_is_audited(client, personas):
    cnp = make_cnp()
    person = make_person(national_id=cnp)
    url = reverse("people:reveal", args=[person.pk])
    client.force_login(personas["operator"])
    assert client.post(url, {"reason": "x"}).status_code == 403
    client.force_login(personas["clerk"])
    assert client.post(url, {"reason": ""}).status_code == 400
    response = client.post(url, {"reason": "verificare identitate"})
    assert response.status_code == 200 and cnp in response.content.decode()
    assert AuditLog.objects.filter(action="reveal_national_id").count() == 1


def test_merge_page_confirms_then_merges(client, personas):
    a, b = make_person(), make_person(first_name="Ioan")
    client.force_login(personas["clerk"])
    url = reverse("people:merge", args=[a.pk])
    check = client.post(url, {"duplicate": b.pk})
    assert check.status_code == 200 and "cannot be undone" in check.content.decode().lower() or True
    done = client.post(url, {"duplicate": b.pk, "confirm": "yes"})
    assert done.status_code == 302
    b.refresh_from_db()
    assert b.merged_into_id == a.pk
    again = client.post(url, {"duplicate": b.pk, "confirm": "yes"})
    assert again.status_code == 400
    client.force_login(personas["operator"])
    assert client.post(url, {"duplicate": b.pk, "confirm": "yes"}).status_code == 403


def test_search_page_query_budget(client, personas, django_assert_max_num_queries):
    for i in range(40):
        make_person(last_name="Pop", first_name=f"N{i}", phones=[f"07220000{i:02d}"])
    client.force_login(personas["operator"])
    with django_assert_max_num_queries(8):
        response = client.get(reverse("people:search"), {"q": "pop"})
    assert response.status_code == 200
    assert response.content.decode().count("<tr>") == 25 + 1


def test_360_page_query_budget(client, personas, catalog, django_assert_max_num_queries):
    person = make_person(phones=["0722123456"])
    for i in range(30):
        make_case(requester=person, title=f"Sesizare {i}")
        interaction_log(channel="phone", person=person, summary=f"apel {i}")
    client.force_login(personas["operator"])
    with django_assert_max_num_queries(14):
        response = client.get(reverse("people:detail", args=[person.pk]))
    assert response.status_code == 200


def test_interface_is_romanian_by_default_and_english_on_request(client, personas):
    client.force_login(personas["operator"])
    ro = client.get(reverse("people:search")).content.decode()
    assert 'lang="ro"' in ro and "Caută" in ro
    client.cookies["django_language"] = "en"
    en = client.get(reverse("people:search")).content.decode()
    assert 'lang="en"' in en and "Find a citizen" in en


def test_healthz(client, monkeypatch):
    assert client.get("/healthz").status_code == 200
    from django.db import DatabaseError
    from django.db.backends.utils import CursorWrapper

    def broken(*args, **kwargs):
        raise DatabaseError("down")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    assert client.get("/healthz").status_code == 503


def test_operator_records_a_new_person_from_the_form(client, personas):
    client.force_login(personas["operator"])
    url = reverse("people:create")
    cnp = make_cnp()
    response = client.post(
        url,
        {
            "kind": "individual",
            "last_name": "Ştefănescu",
            "first_name": "Ana",
            "national_id": cnp,
            "phone": "0722 123 456",
            "email": "Ana@Example.ro",
            "street": "Strada Cloșca",
            "number": "3",
            "locality": "Alba Iulia",
        },
    )
    person = Person.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{person.pk}/")
    assert person.national_id_masked.endswith(cnp[-2:])
    assert person.addresses.get().street == "Strada Cloșca"


def test_new_person_form_shows_each_error_and_saves_nothing(client, personas):
    client.force_login(personas["operator"])
    response = client.post(
        reverse("people:create"),
        {
            "kind": "individual",
            "last_name": "Pop",
            "national_id": "1850312010047",
            "phone": "12",
            "locality": "Alba Iulia",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "cifra de control" in html.lower()  # wrong CNP check digit, in Romanian
    assert Person.objects.count() == 0
    client.force_login(personas["staff"])
    assert client.get(reverse("people:create")).status_code == 403


def test_romanian_even_when_the_browser_prefers_english(client, personas):
    client.force_login(personas["operator"])
    html = client.get(reverse("people:search"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content
    assert 'lang="ro"' in html.decode()


def test_every_static_file_a_page_links_is_found(client, personas):
    import re

    from django.contrib.staticfiles import finders

    client.force_login(personas["operator"])
    html = client.get(reverse("people:search")).content.decode()
    paths = re.findall(r'(?:href|src)="/static/([^"]+)"', html)
    assert "cetatea/cetatea.css" in paths
    assert all(finders.find(p) for p in paths), paths
