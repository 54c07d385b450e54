"""Registering documents: numbering, legal terms, petitions and their cases, bad input."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from cetatea.registry.choices import Direction, EntryStatus, EventKind, SenderKind
from cetatea.registry.models import Entry, RegistryBook
from cetatea.registry.services import (
    entry_by_number,
    parse_number,
    registry_entry_answer,
    registry_entry_extend,
    registry_entry_file,
    registry_entry_forward,
    registry_entry_refuse,
    registry_entry_register,
)

TZ = ZoneInfo("Europe/Bucharest")


def at(y, m, d, h=10, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


def register(registry, point="rg", kind="petitie", **kwargs):
    kwargs.setdefault("summary", "Cerere privind repararea trotuarului de pe str. Trandafirilor")
    kwargs.setdefault("sender_name", "Popescu Ion")
    kwargs.setdefault("sender_address", "Str. Trandafirilor 3, Alba Iulia")
    return registry_entry_register(
        point=registry["points"][point], doc_type=registry["types"][kind], **kwargs
    )


@pytest.mark.django_db
def test_numbers_follow_each_other_per_book_and_restart_on_1_january(registry, personas):
    clerk = personas["clerk"]
    with time_machine.travel(at(2026, 12, 31, 23, 50), tick=False):
        first = register(registry, actor=clerk)
        second = register(registry, actor=clerk)
        other_point = register(registry, point="dv", kind="cerere")
    with time_machine.travel(at(2027, 1, 1, 0, 10), tick=False):
        new_year = register(registry, actor=clerk)
    assert (first.number, second.number, other_point.number) == (1, 2, 1)
    assert first.display_number == "RG-1/2026"
    assert other_point.display_number == "DV-1/2026"
    assert new_year.number == 1 and new_year.book.year == 2027
    assert RegistryBook.objects.count() == 3
    assert entry_by_number("rg-2/2026") == second
    assert entry_by_number(" RG 1 / 2027 ") == new_year
    assert parse_number("nonsense") is None


@pytest.mark.django_db
def test_bad_input_takes_no_number(registry, personas):
    now = at(2026, 11, 30)
    with time_machine.travel(now, tick=False):
        register(registry)
        for kwargs, field in [
            ({"summary": "  "}, "summary"),
            ({"registered_at": now + dt.timedelta(days=1)}, "registered_at"),
            ({"sender_date": dt.date(2026, 12, 5)}, "sender_date"),
            ({"pages": 0}, "pages"),
            ({"sender_name": "", "sender_address": ""}, "sender_name"),
            (
                {"direction": Direction.OUTGOING, "answers": "RG-999/2026", "addressee": "X"},
                "answers",
            ),
            ({"joined_to": "RG-77/2026"}, "joined_to"),
        ]:
            with pytest.raises(ValidationError) as exc:
                register(registry, **kwargs)
            assert field in exc.value.message_dict, (kwargs, exc.value.message_dict)
        # A failure inside the transaction gives its number back too.
        with pytest.raises(RuntimeError), transaction.atomic():
            register(registry)
            raise RuntimeError("the scanner failed")
        after = register(registry)
    assert after.number == 2
    assert list(Entry.objects.order_by("number").values_list("number", flat=True)) == [1, 2]


@pytest.mark.django_db
def test_double_submit_registers_once(registry, personas):
    one = register(registry, submit_token="form-abc")
    two = register(registry, submit_token="form-abc")
    assert one.pk == two.pk
    assert Entry.objects.count() == 1


@pytest.mark.django_db
def test_petition_term_is_30_days_rolled_past_christmas_and_opens_a_case(registry, personas):
    with time_machine.travel(at(2026, 11, 25), tick=False):
        entry = register(registry, channel="counter", actor=personas["clerk"])
    # 25 Nov + 30 days = 25 Dec (Christmas), 26 Dec a holiday and Saturday, 27 Sunday.
    assert entry.due_date == dt.date(2026, 12, 28)
    assert entry.status == EntryStatus.OPEN
    case = entry.case
    assert case is not None and case.channel == "counter"
    assert case.category == registry["other"] and case.regime == "petition"
    assert case.interactions.filter(summary__contains=entry.display_number).exists()


@pytest.mark.django_db
def test_anonymous_petition_is_filed_without_action(registry):
    entry = register(registry, sender_kind=SenderKind.ANONYMOUS, sender_name="x")
    assert entry.status == EntryStatus.FILED
    assert entry.case is None and entry.due_date is None and entry.sender_name == ""
    assert "art. 7" in entry.resolution
    nameless = register(registry, sender_name="Ion", sender_address="", sender_email="")
    assert nameless.status == EntryStatus.FILED


@pytest.mark.django_db
def test_repeated_petitions_are_joined_or_filed(registry, personas):
    first = register(registry)
    joined = register(registry, joined_to=first.display_number)
    assert joined.status == EntryStatus.JOINED and joined.due_date == first.due_date
    assert joined.case is None
    assert first.events.filter(kind=EventKind.JOINED).exists()
    registry_entry_answer(
        entry_id=first.pk, summary="Trotuarul va fi reparat în aprilie.", actor=personas["clerk"]
    )
    first.refresh_from_db()
    joined.refresh_from_db()
    assert first.status == EntryStatus.ANSWERED and first.dispatched_at is not None
    assert joined.dispatched_at == first.dispatched_at
    late = register(registry, joined_to=first)
    assert late.status == EntryStatus.FILED and "art. 10(2)" in late.resolution


@pytest.mark.django_db
def test_answer_is_an_outgoing_entry_that_closes_the_petition_and_its_case(registry, personas):
    entry = register(registry)
    answer = registry_entry_answer(
        entry_id=entry.pk, summary="Lucrare programată.", actor=personas["clerk"]
    )
    entry.refresh_from_db()
    assert answer.direction == Direction.OUTGOING and answer.answers == entry
    assert answer.number == entry.number + 1 and answer.status == EntryStatus.DONE
    assert entry.status == EntryStatus.ANSWERED and entry.resolution == "Lucrare programată."
    assert entry.addressee == "Popescu Ion"
    entry.case.refresh_from_db()
    assert entry.case.status == "fixed"


@pytest.mark.django_db
def test_petition_extension_once_with_notice(
    registry, personas, django_capture_on_commit_callbacks
):
    manager = personas["manager"]
    with time_machine.travel(at(2026, 11, 2), tick=False):
        entry = register(registry, sender_email="ion@example.ro")
    assert entry.due_date == dt.date(2026, 12, 2)  # 1 December is a holiday: not the last day
    with time_machine.travel(at(2026, 11, 20), tick=False):
        with pytest.raises(PermissionError):
            registry_entry_extend(entry_id=entry.pk, days=10, reason="x", actor=personas["clerk"])
        with pytest.raises(ValidationError):
            registry_entry_extend(entry_id=entry.pk, days=16, reason="Anchetă", actor=manager)
        with pytest.raises(ValidationError):
            registry_entry_extend(entry_id=entry.pk, days=10, reason="", actor=manager)
        with django_capture_on_commit_callbacks(execute=True):
            extended = registry_entry_extend(
                entry_id=entry.pk, days=15, reason="Anchetă", actor=manager
            )
        # 2 Nov + 45 days = 17 Dec
        assert extended.due_date == dt.date(2026, 12, 17)
        with pytest.raises(ValidationError) as exc:
            registry_entry_extend(entry_id=entry.pk, days=5, reason="Încă una", actor=manager)
        assert "already" in str(exc.value)
    notice = Entry.objects.get(joined_to=entry, direction=Direction.OUTGOING)
    assert "17.12.2026" in notice.summary
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ion@example.ro"]
    entry.case.refresh_from_db()
    assert entry.case.extended_days == 15


@pytest.mark.django_db
def test_info_544_terms_extension_notice_within_10_days_and_refusal(registry, personas):
    manager = personas["manager"]
    with time_machine.travel(at(2026, 11, 3), tick=False):
        entry = register(registry, kind="info-544")
        late_one = register(registry, kind="info-544")
    assert entry.due_date == dt.date(2026, 11, 13)
    with time_machine.travel(at(2026, 11, 12), tick=False):
        extended = registry_entry_extend(
            entry_id=entry.pk, days=20, reason="Volum mare", actor=manager
        )
        assert extended.due_date == dt.date(2026, 12, 3)
    with time_machine.travel(at(2026, 11, 16), tick=False):
        with pytest.raises(ValidationError) as exc:
            registry_entry_extend(entry_id=late_one.pk, days=20, reason="x", actor=manager)
        assert "13.11.2026" in str(exc.value)
        refused = registry_entry_refuse(
            entry_id=late_one.pk, reason="Informație clasificată.", actor=manager
        )
    assert refused.status == EntryStatus.REFUSED
    assert refused.events.get(kind=EventKind.REFUSED).data["late"] is True


@pytest.mark.django_db
def test_forwarding_with_notice_and_late_flag(registry, personas):
    with time_machine.travel(at(2026, 11, 2), tick=False):
        on_time = register(registry)
        late = register(registry)
    with time_machine.travel(at(2026, 11, 6), tick=False):
        registry_entry_forward(
            entry_id=on_time.pk, to="Prefectura Alba", reason="", actor=personas["clerk"]
        )
    with time_machine.travel(at(2026, 11, 10), tick=False):
        registry_entry_forward(entry_id=late.pk, to="ANAF", reason="", actor=personas["clerk"])
        with pytest.raises(ValidationError):
            registry_entry_forward(entry_id=late.pk, to="ANAF", reason="", actor=personas["clerk"])
    on_time.refresh_from_db()
    assert on_time.status == EntryStatus.FORWARDED and on_time.forwarded_to == "Prefectura Alba"
    assert on_time.events.get(kind=EventKind.FORWARDED).data["late"] is False
    assert late.events.get(kind=EventKind.FORWARDED).data["late"] is True
    assert Entry.objects.filter(joined_to=on_time, direction=Direction.OUTGOING).count() == 1
    on_time.case.refresh_from_db()
    assert on_time.case.status == "not_responsible"


@pytest.mark.django_db
def test_stale_version_is_a_conflict(registry, personas):
    entry = register(registry)
    registry_entry_file(
        entry_id=entry.pk, reason="Retrasă", actor=personas["clerk"], version=entry.version
    )
    with pytest.raises(ValidationError):
        registry_entry_file(
            entry_id=entry.pk, reason="Retrasă", actor=personas["clerk"], version=entry.version
        )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_eight_clerks_at_once_get_unique_gap_free_numbers(registry, personas):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are tested on PostgreSQL")
    errors: list[Exception] = []
    failed = []
    barrier = threading.Barrier(8)

    def clerk(k):
        from django.db import connections

        try:
            barrier.wait()
            for i in range(15):
                if i % 5 == 4:  # some registrations fail after taking a number
                    try:
                        with transaction.atomic():
                            register(registry, point="dv", kind="cerere")
                            raise RuntimeError("scanner jammed")
                    except RuntimeError:
                        failed.append(k)
                    continue
                register(registry, point="dv", kind="cerere", submit_token=f"c{k}-{i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=clerk, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    numbers = sorted(Entry.objects.filter(book__point__code="dv").values_list("number", flat=True))
    assert len(failed) == 8 * 3
    assert numbers == list(range(1, 8 * 12 + 1))
    assert RegistryBook.objects.get(point__code="dv").last_number == 96
