"""/healthz: the database, the file storages and the task queue, JSON, cheap."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from cetatea.ops.tests.test_metrics import task

pytestmark = pytest.mark.django_db


def test_a_healthy_installation_says_ok(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["storages"] == {"default": "ok", "private": "ok"}
    assert body["queue"] == {"status": "ok", "oldest_ready_seconds": 0}


def test_a_database_that_does_not_answer_gives_503(client, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("down")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}


def test_a_storage_on_a_read_only_path_gives_503(client, settings, monkeypatch):
    import os

    real = os.access
    monkeypatch.setattr(
        "cetatea.ops.selectors.os.access",
        lambda path, mode: False if str(path) == str(settings.MEDIA_ROOT) else real(path, mode),
    )
    settings.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["storages"]["default"] == "error"
    assert body["storages"]["private"] == "ok"


def test_a_task_waiting_past_the_threshold_is_a_warning_not_an_outage(client, settings):
    settings.CETATEA_HEALTH_QUEUE_WARN_SECONDS = 600
    task(enqueued_ago=60)
    assert client.get("/healthz").json()["status"] == "ok"
    task(run_after=timezone.now() - dt.timedelta(seconds=900), enqueued_ago=2000)
    task(status="RUNNING", enqueued_ago=5000)  # running: not waiting
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "warn" and body["queue"]["status"] == "warn"
    assert 900 <= body["queue"]["oldest_ready_seconds"] < 1000
