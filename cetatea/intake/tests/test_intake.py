"""The operator's intake form: file for a known or a new caller, see similar cases and the
caller's own, attach the call instead, answer a status question; bad input writes nothing."""

from __future__ import annotations

import re

import pytest

from cetatea.cases.models import Case, CaseEvent, Interaction
from cetatea.people.models import Person
from conftest import INSIDE, make_case, make_cnp, make_person

OUTSIDE = (46.00, 23.40)


@pytest.fixture
def operator(client, personas):
    client.force_login(personas["operator"])
    client.cookies["django_language"] = "en"
    return personas["operator"]


def form(**overrides):
    data = {
        "channel": "phone",
        "call": "call-77",
        "submission_key": "k1",
        "person": "",
        "category": "POTHOLE",
        "latitude": str(INSIDE[0]),
        "longitude": str(INSIDE[1]),
        "address_text": "",
        "description": "Groapă mare în fața blocului",
        "file": "1",
    }
    data.update(overrides)
    return data


def counts():
    return (Case.objects.count(), Person.objects.count(), Interaction.objects.count())


def test_page_opens_with_the_channel_and_call_from_the_query(client, operator, catalog):
    response = client.get("/staff/intake/?channel=counter&call=abc-123")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'<input type="radio" name="channel" value="counter"[^>]* checked', html)
    assert 'name="call" value="abc-123"' in html
    assert "Potholes" in html and "<optgroup" in html  # categories grouped by department


def test_files_a_case_for_an_existing_person(client, operator, catalog):
    person = make_person(phones=["0722 123 456"])
    response = client.post("/staff/intake/", form(person=str(person.pk)))
    case = Case.objects.get()
    assert response.status_code == 302
    assert response.url.startswith(f"/staff/intake/filed/{case.reference}/")
    assert case.requester == person
    assert case.channel == "phone"
    assert case.category.code == "POTHOLE" and case.area == catalog["centre"]
    assert case.department == catalog["roads"]
    interaction = case.interactions.get(direction="in")
    assert interaction.person == person and interaction.handled_by == operator
    assert "call-77" in interaction.summary

    page = client.get(response.url)
    html = page.content.decode()
    assert case.reference in html
    assert "Read it to the caller" in html
    assert case.reference.replace("-", " ") in html


def test_files_a_case_for_a_new_person_at_the_counter(client, operator, catalog):
    cnp = make_cnp()
    response = client.post(
        "/staff/intake/",
        form(
            channel="counter",
            person="new",
            new_last_name="Ionescu",
            new_first_name="Maria",
            new_national_id=cnp,
            new_phone="0744 555 666",
        ),
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.channel == "counter"
    assert case.requester.last_name == "Ionescu"
    assert case.requester.contact_points.get().value == "+40744555666"
    assert case.requester.national_id_masked.startswith(cnp[0])


def test_repeated_submit_files_one_case(client, operator, catalog):
    client.post("/staff/intake/", form())
    client.post("/staff/intake/", form())
    assert Case.objects.count() == 1


def test_without_javascript_a_typed_street_name_gives_the_point(client, operator, catalog):
    from cetatea.catalog.models import Street

    Street.objects.create(
        name="Strada Test", name_key="strada test", latitude=INSIDE[0], longitude=INSIDE[1]
    )
    client.post("/staff/intake/", form(latitude="", longitude="", address_text="Strada Test"))
    case = Case.objects.get()
    assert case.latitude == INSIDE[0] and case.address_text == "Strada Test"


@pytest.mark.parametrize(
    "overrides, field_message",
    [
        ({"category": ""}, "Choose the category of the request."),
        (
            {"latitude": str(OUTSIDE[0]), "longitude": str(OUTSIDE[1])},
            "outside the city",
        ),
        (
            {"person": "new", "new_last_name": "Ionescu", "new_phone": "12"},
            "phone",
        ),
        (
            {"person": "new", "new_last_name": "Ionescu", "new_national_id": "1850312011234"},
            "CNP",
        ),
        ({"person": "new", "new_last_name": ""}, "The name is required."),
        ({"channel": "email"}, "email"),
    ],
)
def test_bad_input_gets_a_clear_message_and_writes_nothing(
    client, operator, catalog, overrides, field_message
):
    before = counts()
    response = client.post("/staff/intake/", form(**overrides))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert field_message in html
    assert counts() == before


def test_a_bad_cnp_with_a_bad_category_writes_no_person(client, operator, catalog):
    before = counts()
    response = client.post(
        "/staff/intake/",
        form(category="", person="new", new_last_name="Ionescu", new_national_id=make_cnp()),
    )
    assert response.status_code == 400
    assert counts() == before


def test_persons_are_found_as_the_operator_types(client, operator, catalog):
    person = make_person(last_name="Ștefănescu", first_name="Ana")
    response = client.get("/staff/intake/persons/", {"q": "stefan"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert f'name="person" value="{person.pk}"' in html
    assert "Ana" in html


def test_search_without_javascript_keeps_the_form_and_files_nothing(client, operator, catalog):
    person = make_person(last_name="Vasilescu")
    data = form(q="vasil", description="Kept text")
    del data["file"]
    data["search"] = "1"
    response = client.post("/staff/intake/", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{person.pk}"' in html and "Kept text" in html
    assert Case.objects.count() == 0


def test_similar_open_cases_nearby_and_the_callers_own_are_shown(client, operator, catalog):
    person = make_person()
    near_private = make_case(channel="phone", latitude=INSIDE[0], longitude=INSIDE[1])
    near_public = make_case(latitude=INSIDE[0] + 0.0002, longitude=INSIDE[1], publication="public")
    far = make_case(latitude=INSIDE[0] + 0.005, longitude=INSIDE[1], publication="public")
    other_category = make_case(
        category="INFO", channel="phone", latitude=INSIDE[0], longitude=INSIDE[1]
    )
    own = make_case(category="INFO", requester=person, title="Cerere de informații")
    response = client.get(
        "/staff/intake/panel/",
        {
            "category": "POTHOLE",
            "latitude": INSIDE[0],
            "longitude": INSIDE[1],
            "person": person.pk,
        },
    )
    html = response.content.decode()
    assert near_private.reference in html and near_public.reference in html
    assert far.reference not in html
    assert other_category.reference not in html
    assert own.reference in html and "Cerere de informații" in html
    assert f'name="attach" value="{near_private.pk}"' in html


def test_the_call_is_attached_to_an_existing_case_instead(client, operator, catalog):
    person = make_person()
    case = make_case(channel="phone", latitude=INSIDE[0], longitude=INSIDE[1])
    before_cases = Case.objects.count()
    data = form(person=str(person.pk), description="Same pothole, neighbour calling")
    del data["file"]
    data["attach"] = str(case.pk)
    response = client.post("/staff/intake/", data)
    assert response.status_code == 302
    assert Case.objects.count() == before_cases
    logged = Interaction.objects.get(case=case, handled_by=operator)
    assert logged.person == person and logged.handled_by == operator
    assert "neighbour" in logged.summary and "call-77" in logged.summary
    client.post("/staff/intake/", data)  # a double click records it once
    assert Interaction.objects.filter(case=case, handled_by=operator).count() == 1


def test_a_status_question_is_logged_on_the_person_and_the_case(client, operator, catalog):
    person = make_person()
    case = make_case(channel="web", requester=person)
    data = form(
        person=str(person.pk),
        channel="counter",
        reference=case.reference.replace("-", " ").lower(),
        description="Asked where the request is; told it is with the roads department.",
        category="",
    )
    del data["file"]
    data["attach"] = "reference"
    response = client.post("/staff/intake/", data)
    assert response.status_code == 302
    logged = Interaction.objects.get(channel="counter")
    assert logged.case == case and logged.person == person
    assert Case.objects.count() == 1
    assert not CaseEvent.objects.filter(case=case).exclude(kind="created").exists()
    # ... and it is on the person's 360° timeline.
    from cetatea.people.selectors import person_timeline

    items = person_timeline(person).items
    assert any(i.kind == "interaction" and i.obj == logged for i in items)


@pytest.mark.parametrize(
    "attach, overrides, message",
    [
        ("reference", {"reference": "AB-2026-999999"}, "There is no case"),
        ("reference", {"reference": "nonsense"}, "is not a case reference"),
        ("case", {"description": ""}, "what the caller asked"),
    ],
)
def test_attaching_with_bad_input_writes_nothing(
    client, operator, catalog, attach, overrides, message
):
    case = make_case()
    before = counts()
    data = form(**overrides)
    del data["file"]
    data["attach"] = str(case.pk) if attach == "case" else attach
    response = client.post("/staff/intake/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert counts() == before


@pytest.mark.parametrize("who, status", [("crew", 403), ("citizen", 403), ("clerk", 200)])
def test_only_intake_roles_open_the_form(client, personas, catalog, who, status):
    client.force_login(personas[who])
    assert client.get("/staff/intake/").status_code == status


def test_anonymous_visitor_goes_to_login(client, catalog):
    response = client.get("/staff/intake/")
    assert response.status_code == 302 and "/login/" in response.url
