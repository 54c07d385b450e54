"""The deadline digest (``manage.py registry_alerts``): who is told, once a day, and about
which entries; frozen time, holidays through the terms computed at registration."""

from __future__ import annotations

import datetime as dt
import io
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection

from cetatea.core import roles
from cetatea.registry.alerts import registry_deadline_alerts
from cetatea.registry.choices import EventKind
from cetatea.registry.models import EntryEvent
from cetatea.registry.services import registry_entry_answer, registry_entry_register
from conftest import make_user

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


def alerts_of(entry):
    return EntryEvent.objects.filter(entry=entry, kind=EventKind.ALERT).count()


@pytest.fixture
def run_at(django_capture_on_commit_callbacks):
    """Run the alerts at ``moment`` with the mails sent (after commit) into a clean outbox."""

    def run(moment, **kwargs):
        with time_machine.travel(moment, tick=False):
            mail.outbox.clear()
            with django_capture_on_commit_callbacks(execute=True):
                return registry_deadline_alerts(**kwargs)

    return run


@pytest.fixture
def people(registry, personas):
    """The public-relations and roads departments with addresses; a clerk of the general
    registry with an address, one without, and an inactive one."""
    registry["public"].email = "relatii@primaria.example"
    registry["public"].save(update_fields=["email"])
    registry["roads"].email = "drumuri@primaria.example"
    registry["roads"].save(update_fields=["email"])
    rg = registry["points"]["rg"]
    clerk = personas["clerk"]
    clerk.email = "ghiseu@primaria.example"
    clerk.save(update_fields=["email"])
    rg.clerks.add(clerk, make_user("clerk2", roles.REGISTRY_CLERK))
    rg.clerks.add(
        make_user("gone", roles.REGISTRY_CLERK, email="plecat@primaria.example", is_active=False)
    )
    registry["points"]["dv"].clerks.add(
        make_user("dvclerk", roles.REGISTRY_CLERK, email="venituri@primaria.example")
    )
    return {"clerk": clerk}


@pytest.mark.django_db
def test_entries_near_and_past_their_term_are_alerted_once_a_day(registry, people, run_at):
    with time_machine.travel(at(2026, 10, 1), tick=False):
        # 1 Oct + 30 days = Saturday 31 Oct: the term rolls to Monday 2 November.
        petition = register(registry)
        answered = register(registry)
    with time_machine.travel(at(2026, 10, 20), tick=False):
        info = register(registry, kind="info-544", department=registry["roads"])
        far = register(registry, kind="cerere")  # 19 November: outside the window
    with time_machine.travel(at(2026, 10, 2), tick=False):
        registry_entry_answer(entry_id=answered.pk, summary="Răspuns", actor=people["clerk"])
    assert petition.due_date == dt.date(2026, 11, 2)
    assert info.due_date == dt.date(2026, 10, 30)

    run = run_at(at(2026, 10, 30, 7), soon_days=3)

    assert run.alerted == 2 and run.mails == 2
    by_department = {m.to[0]: m for m in mail.outbox}
    assert set(by_department) == {"relatii@primaria.example", "drumuri@primaria.example"}
    public = by_department["relatii@primaria.example"]
    assert public.to == ["relatii@primaria.example", "ghiseu@primaria.example"]
    assert petition.display_number in public.body and "02.11.2026" in public.body
    assert info.display_number not in public.body
    roads = by_department["drumuri@primaria.example"]
    assert info.display_number in roads.body and "30.10.2026" in roads.body
    assert answered.display_number not in public.body + roads.body
    assert far.display_number not in public.body + roads.body
    assert (alerts_of(petition), alerts_of(info), alerts_of(answered), alerts_of(far)) == (
        1,
        1,
        0,
        0,
    )
    event = EntryEvent.objects.get(entry=info, kind=EventKind.ALERT)
    assert event.data["days_left"] == 0 and event.data["day"] == "2026-10-30"

    # A timer runs it again the same day: nothing new is sent or written.
    again = run_at(at(2026, 10, 30, 16, 55), soon_days=3)
    assert again.alerted == 0 and again.already_alerted == 2 and mail.outbox == []
    assert alerts_of(petition) == 1

    # The next day both are alerted again: one a day late, the other still near.
    next_day = run_at(at(2026, 10, 31, 0, 5), soon_days=3)
    assert next_day.alerted == 2 and len(mail.outbox) == 2
    late = EntryEvent.objects.filter(entry=info, kind=EventKind.ALERT).latest("created_at")
    assert late.data["days_left"] == -1
    assert (alerts_of(petition), alerts_of(info)) == (2, 2)

    # Answered: never alerted again.
    with time_machine.travel(at(2026, 10, 31, 9), tick=False):
        registry_entry_answer(entry_id=info.pk, summary="Răspuns", actor=people["clerk"])
    run_at(at(2026, 11, 1, 9), soon_days=3)
    assert alerts_of(info) == 2 and alerts_of(petition) == 3
    assert [m.to[0] for m in mail.outbox] == ["relatii@primaria.example"]


@pytest.mark.django_db
def test_a_term_rolled_past_holidays_is_not_late_on_the_holidays(registry, people, run_at):
    # 31 Oct + 30 days = Monday 30 November (St Andrew), then 1 December (National Day):
    # the term ends on Wednesday 2 December (Civil Code art. 2554).
    with time_machine.travel(at(2026, 10, 31), tick=False):
        petition = register(registry)
    assert petition.due_date == dt.date(2026, 12, 2)

    assert run_at(at(2026, 11, 30), soon_days=0).alerted == 0
    assert run_at(at(2026, 12, 1), soon_days=0).alerted == 0
    on_the_day = run_at(at(2026, 12, 2), soon_days=0)
    assert on_the_day.alerted == 1 and on_the_day.digests[0].overdue == []
    late = run_at(at(2026, 12, 3), soon_days=0)
    assert [e.pk for e in late.digests[0].overdue] == [petition.pk]
    assert "03.12" not in mail.outbox[0].body and "02.12.2026" in mail.outbox[0].body


@pytest.mark.django_db
def test_the_digest_names_numbers_and_terms_not_senders_or_summaries(registry, people, run_at):
    with time_machine.travel(at(2026, 10, 1), tick=False):
        entry = register(
            registry, sender_name="Ionescu Maria", summary="Datorii la întreținere, bloc A4"
        )
    run_at(at(2026, 11, 2, 8), soon_days=3)
    (message,) = mail.outbox
    assert entry.display_number in message.body
    assert "Ionescu" not in message.body + message.subject
    assert "întreținere" not in message.body and "intretinere" not in message.body
    assert "/staff/registry/deadlines/" in message.body


@pytest.mark.django_db
def test_entries_without_department_go_to_the_points_clerks(registry, people, run_at):
    registry["points"]["dv"].department = None
    registry["points"]["dv"].save(update_fields=["department"])
    with time_machine.travel(at(2026, 10, 1), tick=False):
        entry = register(registry, point="dv")
    assert entry.department_id is None
    run = run_at(at(2026, 11, 2, 8), soon_days=3)
    assert run.mails == 1
    assert mail.outbox[0].to == ["venituri@primaria.example"]


@pytest.mark.django_db
def test_nobody_to_tell_still_records_the_alert_once(registry, people, run_at):
    registry["public"].email = ""
    registry["public"].save(update_fields=["email"])
    registry["points"]["rg"].clerks.clear()
    with time_machine.travel(at(2026, 10, 1), tick=False):
        entry = register(registry)
    run = run_at(at(2026, 11, 2, 8), soon_days=3)
    assert run.alerted == 1 and run.mails == 0 and mail.outbox == []
    assert run_at(at(2026, 11, 2, 9), soon_days=3).alerted == 0
    assert alerts_of(entry) == 1


@pytest.mark.django_db
def test_dry_run_prints_and_changes_nothing(registry, people, django_capture_on_commit_callbacks):
    with time_machine.travel(at(2026, 10, 1), tick=False):
        entry = register(registry)
    out = io.StringIO()
    with time_machine.travel(at(2026, 11, 2, 8), tick=False):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("registry_alerts", "--dry-run", "--days", "3", stdout=out)
    text = out.getvalue()
    assert "relatii@primaria.example" in text and entry.display_number in text
    assert "would alert 1 entries" in text
    assert mail.outbox == [] and alerts_of(entry) == 0

    with time_machine.travel(at(2026, 11, 2, 8), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("registry_alerts", stdout=out)
    assert len(mail.outbox) == 1 and alerts_of(entry) == 1


@pytest.mark.django_db
def test_the_window_comes_from_the_setting_and_must_not_be_negative(
    registry, people, settings, run_at
):
    with time_machine.travel(at(2026, 10, 1), tick=False):
        register(registry)  # term 2 November
    settings.CETATEA_REGISTRY_ALERT_DAYS = 1
    assert run_at(at(2026, 10, 30, 8)).alerted == 0  # 3 days left
    settings.CETATEA_REGISTRY_ALERT_DAYS = 3
    assert run_at(at(2026, 10, 30, 8)).alerted == 1
    with pytest.raises(CommandError):
        call_command("registry_alerts", "--days", "-1", stdout=io.StringIO())


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_the_same_moment_send_one_digest(registry, people):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent runs are tested on PostgreSQL")
    with time_machine.travel(at(2026, 10, 1), tick=False):
        entries = [register(registry) for _ in range(5)]
    barrier = threading.Barrier(2)
    runs, errors = [], []

    def timer():
        from django.db import connections

        try:
            barrier.wait()
            runs.append(registry_deadline_alerts(now=at(2026, 11, 2, 8), soon_days=3))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    mail.outbox.clear()
    threads = [threading.Thread(target=timer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(r.alerted for r in runs) == [0, 5]
    assert len(mail.outbox) == 1
    assert [alerts_of(e) for e in entries] == [1] * 5
