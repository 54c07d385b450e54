import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from cetatea.cases.choices import EventKind, Status
from cetatea.cases.models import Case, CaseEvent, Interaction
from cetatea.cases.services import (
    Contact,
    case_add_attachment,
    case_add_note,
    case_assign,
    case_change_status,
    case_extend_deadline,
    case_merge,
    interaction_log,
)
from cetatea.catalog.models import CategoryRoute
from conftest import INSIDE, INSIDE_EAST, make_case, make_cnp, make_person

BUC = ZoneInfo("Europe/Bucharest")
pytestmark = pytest.mark.django_db


def counts():
    return Case.objects.count(), CaseEvent.objects.count(), Interaction.objects.count()


def test_case_create_writes_case_first_event_and_interaction(catalog, personas):
    person = make_person(national_id=make_cnp())
    case = make_case(
        channel="phone",
        requester=person,
        latitude=INSIDE[0],
        longitude=INSIDE[1],
        actor=personas["operator"],
        description="Groapă mare în fața blocului",
    )
    assert case.reference.startswith(f"AB-{case.year}-")
    assert case.area == catalog["centre"]
    assert case.department == catalog["roads"]
    assert case.status == Status.NEW
    event = case.events.get()
    assert event.kind == EventKind.CREATED and event.actor == personas["operator"]
    interaction = case.interactions.get()
    assert interaction.person == person and interaction.channel == "phone"
    assert interaction.handled_by == personas["operator"]


def test_references_are_consecutive_and_formatted(catalog):
    with time_machine.travel(dt.datetime(2026, 5, 4, 10, tzinfo=BUC)):
        refs = [make_case().reference for _ in range(3)]
    assert refs == ["AB-2026-000001", "AB-2026-000002", "AB-2026-000003"]


def test_numbering_restarts_on_1_january_local_time(catalog):
    with time_machine.travel(dt.datetime(2026, 12, 31, 23, 50, tzinfo=BUC)):
        assert make_case().reference == "AB-2026-000001"
    # 00:10 on 1 January in Bucharest is still 31 December in UTC.
    with time_machine.travel(dt.datetime(2027, 1, 1, 0, 10, tzinfo=BUC)):
        assert make_case().reference == "AB-2027-000001"


def test_routing_follows_area_override(catalog):
    CategoryRoute.objects.create(
        category=catalog["pothole"], area=catalog["east"], operator=catalog["water"]
    )
    west = make_case(latitude=INSIDE[0], longitude=INSIDE[1])
    east = make_case(latitude=INSIDE_EAST[0], longitude=INSIDE_EAST[1])
    assert (west.department, west.operator) == (catalog["roads"], None)
    assert (east.department, east.operator) == (None, catalog["water"])


def test_outside_operator_category_is_routed_to_the_operator(catalog):
    case = make_case(category="LEAK")
    assert case.operator == catalog["water"] and case.department is None


def test_identified_request_is_a_petition_and_anonymous_one_a_ticket(catalog):
    registered = dt.datetime(2026, 3, 2, 10, tzinfo=BUC)
    person = make_person()
    petition = make_case(requester=person, registered_at=registered)
    ticket = make_case(contact=Contact(name="Anonim"), registered_at=registered)
    assert petition.regime == "petition"
    assert petition.due_at == dt.datetime(2026, 4, 1, 23, 59, 59, tzinfo=BUC)
    assert ticket.regime == "ticket"
    assert ticket.due_at == registered + dt.timedelta(hours=240)


def test_information_request_gets_the_544_term(catalog):
    registered = dt.datetime(2026, 3, 2, 10, tzinfo=BUC)
    case = make_case(category="INFO", requester=make_person(), registered_at=registered)
    assert case.regime == "info_544"
    assert case.due_at.astimezone(BUC).date() == dt.date(2026, 3, 12)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"category": "NOPE"}, "category"),
        ({"channel": "pigeon"}, "channel"),
        ({"latitude": 44.43, "longitude": 26.10}, "location"),  # Bucharest
        ({"latitude": 46.07}, "location"),
        ({"latitude": "abc", "longitude": "x"}, "location"),
        ({"contact": Contact(phone="12")}, "contact_phone"),
        ({"contact": Contact(email="nope")}, "contact_email"),
        ({"title": "x" * 201}, "title"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(catalog, kwargs, field):
    before = counts()
    with pytest.raises(ValidationError) as exc:
        make_case(**kwargs)
    assert field in exc.value.message_dict
    assert counts() == before


def test_outside_city_message_is_clear(catalog):
    with pytest.raises(ValidationError) as exc:
        make_case(latitude=44.43, longitude=26.10)
    assert "outside the city" in exc.value.message_dict["location"][0]


def test_repeated_submit_with_same_external_id_files_one_case(catalog):
    first = make_case(channel="email", external_id="<msg-1@example.ro>")
    again = make_case(channel="email", external_id="<msg-1@example.ro>")
    assert first.pk == again.pk
    assert Case.objects.count() == 1


def test_merged_requester_files_on_the_survivor(catalog, personas):
    from cetatea.people.services import person_merge

    a, b = make_person(), make_person(first_name="Ioan")
    person_merge(survivor_id=a.pk, duplicate_id=b.pk, actor=personas["clerk"])
    b.refresh_from_db()
    assert make_case(requester=b).requester == a


def test_status_transitions_follow_the_table(catalog, personas):
    case = make_case()
    case_change_status(case_id=case.pk, status="in_progress", actor=personas["staff"])
    case = case_change_status(case_id=case.pk, status="fixed", actor=personas["staff"])
    assert case.closed_at is not None
    with pytest.raises(ValidationError):
        case_change_status(case_id=case.pk, status="in_progress", actor=personas["staff"])
    case = case_change_status(case_id=case.pk, status="reopened", actor=personas["staff"])
    assert case.closed_at is None
    kinds = list(case.events.order_by("created_at", "id").values_list("to_status", flat=True))
    assert kinds == ["new", "in_progress", "fixed", "reopened"]


def test_unknown_status_or_case_is_refused(catalog, personas):
    case = make_case()
    with pytest.raises(ValidationError):
        case_change_status(case_id=case.pk, status="teleported", actor=None)
    with pytest.raises(ValidationError):
        case_change_status(case_id=999999, status="fixed", actor=None)


def test_waiting_for_the_citizen_pauses_the_petition_clock(catalog, personas):
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=BUC)) as traveller:
        case = make_case(requester=make_person())
        assert case.due_at.astimezone(BUC).date() == dt.date(2026, 4, 1)
        case_change_status(case_id=case.pk, status="on_hold", actor=personas["staff"])
        traveller.move_to(dt.datetime(2026, 3, 9, 11, tzinfo=BUC))  # 7 days later
        case = case_change_status(case_id=case.pk, status="in_progress", actor=personas["staff"])
    assert case.due_at.astimezone(BUC).date() == dt.date(2026, 4, 8)
    assert case.paused_since is None


def test_waiting_pauses_a_ticket_by_the_exact_time(catalog, personas):
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=BUC), tick=False) as traveller:
        case = make_case()
        due_before = case.due_at
        case_change_status(case_id=case.pk, status="on_hold", actor=personas["staff"])
        traveller.shift(dt.timedelta(hours=5))
        case = case_change_status(case_id=case.pk, status="in_progress", actor=personas["staff"])
    assert case.due_at == due_before + dt.timedelta(hours=5)


def test_petition_extension_once_up_to_15_days(catalog, personas):
    registered = dt.datetime(2026, 3, 11, 9, tzinfo=BUC)  # base: Good Friday 10 April
    case = make_case(requester=make_person(), registered_at=registered)
    with pytest.raises(PermissionError):
        case_extend_deadline(case_id=case.pk, days=15, reason="x", actor=personas["staff"])
    with pytest.raises(ValidationError):
        case_extend_deadline(case_id=case.pk, days=16, reason="x", actor=personas["manager"])
    case = case_extend_deadline(
        case_id=case.pk, days=15, reason="Cercetare pe teren", actor=personas["manager"]
    )
    assert case.due_at.astimezone(BUC).date() == dt.date(2026, 4, 27)
    with pytest.raises(ValidationError):
        case_extend_deadline(case_id=case.pk, days=5, reason="again", actor=personas["manager"])


def test_notes_replies_and_assignment_are_events(catalog, personas):
    case = make_case()
    case_add_note(case_id=case.pk, text="Verificat pe teren", actor=personas["crew"])
    case_add_note(
        case_id=case.pk, text="Am programat reparația", actor=personas["staff"], public=True
    )
    case_assign(case_id=case.pk, assignee=personas["crew"], actor=personas["staff"])
    kinds = set(case.events.values_list("kind", flat=True))
    assert {"internal_note", "public_reply", "assignment"} <= kinds
    with pytest.raises(ValidationError):
        case_add_note(case_id=case.pk, text="   ", actor=personas["crew"])


def test_case_events_are_append_only(catalog):
    event = make_case().events.get()
    event.text = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        CaseEvent.objects.filter(pk=event.pk).update(text="rewritten")


def test_status_question_is_logged_as_interaction_on_person_and_case(catalog, personas):
    person = make_person()
    case = make_case(requester=person)
    interaction_log(
        channel="phone",
        case=case,
        handled_by=personas["operator"],
        summary="Întreabă de stadiu",
        duration_seconds=95,
        external_id="call-42",
    )
    interaction_log(channel="phone", case=case, summary="dup", external_id="call-42")
    logged = Interaction.objects.filter(external_id="call-42")
    assert logged.count() == 1
    assert logged.get().person == person and logged.get().duration_seconds == 95
    with pytest.raises(ValidationError):
        interaction_log(channel="phone")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_case_creation_gives_unique_gap_free_references(catalog):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are tested on PostgreSQL")
    errors = []
    barrier = threading.Barrier(6)

    def worker():
        from django.db import connections

        try:
            barrier.wait()
            for _ in range(10):
                make_case()
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    sequences = sorted(Case.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, 61))


def test_history_can_be_recorded_at_past_times_in_order(catalog, personas):
    registered = dt.datetime(2026, 3, 2, 10, tzinfo=BUC)
    case = make_case(registered_at=registered)
    later = registered + dt.timedelta(days=2)
    case = case_change_status(case_id=case.pk, status="fixed", actor=None, at=later)
    assert case.closed_at == later
    with pytest.raises(ValidationError):  # before the previous event
        case_add_note(case_id=case.pk, text="x", actor=None, at=registered)
    with pytest.raises(ValidationError):  # in the future
        case_add_note(case_id=case.pk, text="x", actor=None, at=dt.datetime(2099, 1, 1, tzinfo=BUC))


def test_merging_a_duplicate_case_closes_it_and_marks_both(catalog, personas):
    original, duplicate = make_case(), make_case(channel="phone")
    case_merge(duplicate_id=duplicate.pk, original_id=original.pk, actor=personas["staff"])
    duplicate.refresh_from_db()
    assert duplicate.status == "duplicate" and duplicate.merged_into == original
    assert original.events.filter(kind="merge", data__from=duplicate.reference).exists()
    with pytest.raises(ValidationError):
        case_merge(duplicate_id=duplicate.pk, original_id=original.pk, actor=None)
    with pytest.raises(ValidationError):
        case_merge(duplicate_id=original.pk, original_id=original.pk, actor=None)


def test_attachment_is_stored_and_limits_are_enforced(catalog, personas, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    case = make_case()
    scan = SimpleUploadedFile("cerere scanată.pdf", b"%PDF-1.4 test", "application/pdf")
    attachment = case_add_attachment(case_id=case.pk, file=scan, actor=personas["clerk"])
    assert attachment.content_type == "application/pdf"
    assert attachment.original_name == "cerere scanată.pdf"
    assert (tmp_path / attachment.file.name).read_bytes() == b"%PDF-1.4 test"
    with pytest.raises(ValidationError):
        case_add_attachment(case_id=case.pk, file=SimpleUploadedFile("e.txt", b""), actor=None)
