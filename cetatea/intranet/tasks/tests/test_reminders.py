"""Reminders: 24 hours and 1 hour before the due time and once overdue, each sent once."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from cetatea.intranet.tasks import services
from cetatea.intranet.tasks.models import Reminder
from cetatea.intranet.tasks.tests.conftest import make_task

pytestmark = pytest.mark.django_db

DUE = dt.datetime(2026, 5, 20, 12, 0, tzinfo=dt.UTC)


def _run(at: dt.datetime) -> int:
    with time_machine.travel(at, tick=False):
        out = StringIO()
        call_command("task_reminders", stdout=out)
    return int(out.getvalue().split()[0])


def test_each_reminder_is_sent_once(office):
    with time_machine.travel(DUE - dt.timedelta(days=5), tick=False):
        make_task(
            office["board"], office["manager"], title="Raport", assignee=office["staff"], due_at=DUE
        )
    assert _run(DUE - dt.timedelta(days=2)) == 0
    assert _run(DUE - dt.timedelta(hours=20)) == 1
    assert "Raport" in mail.outbox[-1].subject and mail.outbox[-1].to == ["staff@example.org"]
    assert _run(DUE - dt.timedelta(hours=19)) == 0  # not again
    assert _run(DUE - dt.timedelta(minutes=50)) == 1
    assert _run(DUE - dt.timedelta(minutes=10)) == 0
    assert _run(DUE + dt.timedelta(minutes=5)) == 1
    assert "Raport" in mail.outbox[-1].subject
    assert _run(DUE + dt.timedelta(hours=5)) == 0
    assert len(mail.outbox) == 3
    assert sorted(Reminder.objects.values_list("kind", flat=True)) == ["1h", "24h", "overdue"]


def test_a_late_run_sends_only_the_most_urgent(office):
    with time_machine.travel(DUE - dt.timedelta(days=5), tick=False):
        make_task(office["board"], office["manager"], assignee=office["staff"], due_at=DUE)
    assert _run(DUE - dt.timedelta(minutes=30)) == 1
    assert list(Reminder.objects.values_list("kind", flat=True)) == ["1h"]


def test_done_tasks_and_tasks_without_assignee_get_nothing(office):
    with time_machine.travel(DUE - dt.timedelta(days=5), tick=False):
        done = make_task(office["board"], office["manager"], assignee=office["staff"], due_at=DUE)
        services.task_move(
            actor=office["staff"], task_id=done.pk, version=done.version, status="done"
        )
        make_task(office["board"], office["manager"], due_at=DUE)
    assert _run(DUE - dt.timedelta(hours=2)) == 0
    assert _run(DUE + dt.timedelta(hours=2)) == 0
    assert mail.outbox == []


def test_a_new_due_time_is_reminded_afresh(office):
    with time_machine.travel(DUE - dt.timedelta(days=5), tick=False):
        task = make_task(office["board"], office["manager"], assignee=office["staff"], due_at=DUE)
    assert _run(DUE + dt.timedelta(minutes=1)) == 1
    later = DUE + dt.timedelta(days=1)
    with time_machine.travel(DUE + dt.timedelta(minutes=2), tick=False):
        services.task_update(
            actor=office["staff"],
            task_id=task.pk,
            version=task.version,
            title=task.title,
            description="",
            assignee=office["staff"],
            due_at=later,
            priority=2,
        )
    assert _run(later - dt.timedelta(hours=3)) == 1
    assert _run(later - dt.timedelta(hours=2)) == 0


def test_a_failed_send_is_tried_again(office, settings):
    with time_machine.travel(DUE - dt.timedelta(days=5), tick=False):
        make_task(office["board"], office["manager"], assignee=office["staff"], due_at=DUE)
    settings.EMAIL_BACKEND = "cetatea.intranet.tasks.tests.test_reminders.BrokenBackend"
    assert _run(DUE - dt.timedelta(hours=3)) == 0
    assert not Reminder.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert _run(DUE - dt.timedelta(hours=2)) == 1


class BrokenBackend:
    """An SMTP server that is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("connection refused")
