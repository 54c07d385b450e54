"""Real concurrent writers (PostgreSQL): double submits and simultaneous moves."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from cetatea.intranet.tasks import services
from cetatea.intranet.tasks.models import Task

pytestmark = [pytest.mark.django_db(transaction=True)]


def _together(n, work):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run(i):
        try:
            barrier.wait()
            results.append(work(i))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


@pytest.fixture
def only_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (the SQLite test database is in memory)")


def test_simultaneous_double_submit_makes_one_task(only_postgres, office):
    key = uuid.uuid4()
    results, errors = _together(
        4,
        lambda i: (
            services.task_create(
                actor=office["staff"], board=office["board"], title="Dublu", idempotency_key=key
            ).pk
        ),
    )
    assert errors == []
    assert len(set(results)) == 1
    assert Task.objects.filter(title="Dublu").count() == 1


def test_simultaneous_moves_one_wins_the_others_are_told(only_postgres, office):
    task = services.task_create(actor=office["staff"], board=office["board"], title="T")
    statuses = ["in_progress", "done", "in_progress", "done"]
    results, errors = _together(
        4,
        lambda i: (
            services.task_move(
                actor=office["staff"], task_id=task.pk, version=task.version, status=statuses[i]
            ).status
        ),
    )
    assert len(results) == 1
    assert len(errors) == 3 and all(isinstance(e, ValidationError) for e in errors)
    assert all(e.code == "stale" for e in errors)
    task.refresh_from_db()
    assert task.status == results[0] and task.version == 2


def test_simultaneous_creates_get_distinct_positions(only_postgres, office):
    _results, errors = _together(
        4,
        lambda i: services.task_create(actor=office["staff"], board=office["board"], title=f"P{i}"),
    )
    assert errors == []
    positions = list(Task.objects.values_list("position", flat=True))
    assert len(set(positions)) == 4
