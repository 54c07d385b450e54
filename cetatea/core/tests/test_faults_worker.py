"""A worker killed in the middle of a task: the task stays RUNNING (django-tasks-db has no
recovery), ``requeue_stale_tasks`` puts it back, a new worker runs it, and its effect
exists once (``cetatea.core.taskqueue``)."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from PIL import Image

from cetatea.cases import photos
from cetatea.cases.models import Photo
from cetatea.core.taskqueue import requeue_stale_tasks
from cetatea.core.tests.slow_tasks import process_photo_pausing
from cetatea.notify.tasks import send_notification_task
from conftest import make_case

ROOT = Path(__file__).resolve().parents[3]


def _task(started_minutes_ago: float | None, workers: int = 1) -> DBTaskResult:
    result = send_notification_task.enqueue(1)
    row = DBTaskResult.objects.get(pk=result.id)
    if started_minutes_ago is not None:
        row.status = TaskResultStatus.RUNNING
        row.started_at = timezone.now() - dt.timedelta(minutes=started_minutes_ago)
        row.worker_ids = [f"w{i}" for i in range(workers)]
        row.save()
    return row


@pytest.mark.django_db
def test_only_tasks_running_longer_than_the_limit_are_requeued(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    lost, young, ready = _task(45), _task(5), _task(None)
    run = requeue_stale_tasks(older_than=dt.timedelta(minutes=30))
    assert run.requeued == [str(lost.pk)] and run.failed == []
    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert statuses[lost.pk] == TaskResultStatus.READY
    assert statuses[young.pk] == TaskResultStatus.RUNNING
    assert statuses[ready.pk] == TaskResultStatus.READY
    assert requeue_stale_tasks(older_than=dt.timedelta(minutes=30)).requeued == []


@pytest.mark.django_db
def test_a_task_that_loses_its_worker_again_and_again_is_failed(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    poison = _task(45, workers=3)
    run = requeue_stale_tasks(older_than=dt.timedelta(minutes=30), max_attempts=3)
    assert run.failed == [str(poison.pk)]
    poison.refresh_from_db()
    assert poison.status == TaskResultStatus.FAILED
    assert poison.exception_class_path == "cetatea.core.taskqueue.WorkerLost"


@pytest.mark.django_db
def test_the_command_has_a_dry_run(settings, capsys):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    lost = _task(45)
    call_command("requeue_stale_tasks", "--older-than", "1800", "--dry-run")
    assert "Would requeue 1 task(s)" in capsys.readouterr().out
    lost.refresh_from_db()
    assert lost.status == TaskResultStatus.RUNNING
    call_command("requeue_stale_tasks", "--older-than", "1800")
    lost.refresh_from_db()
    assert lost.status == TaskResultStatus.READY


# --- the real thing: a db_worker process SIGKILLed in the middle of a photo ------------------


def _jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile("poza.jpg", buffer.getvalue(), "image/jpeg")


class _Database:
    """The test database as a subprocess sees it: PostgreSQL's own, or SQLite's copied to
    a file (the test one lives in memory) and copied back at the end."""

    def __init__(self, tmp_path: Path):
        self.vendor = connection.vendor
        self.file = tmp_path / "worker.sqlite3"

    def env(self, tmp_path: Path) -> dict[str, str]:
        env = {
            **os.environ,
            "CETATEA_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "CETATEA_PRIVATE_MEDIA_ROOT": str(settings.CETATEA_PRIVATE_MEDIA_ROOT),
            "CETATEA_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "CETATEA_LOG_LEVEL": "WARNING",
        }
        if self.vendor == "postgresql":
            s = connection.settings_dict
            env["DATABASE_URL"] = (
                f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST'] or 'localhost'}"
                f":{s['PORT'] or 5432}/{s['NAME']}"
            )
        else:
            env.pop("DATABASE_URL", None)
            env["CETATEA_SQLITE_PATH"] = str(self.file)
        return env

    def share(self) -> None:
        if self.vendor == "sqlite":
            connection.ensure_connection()
            with sqlite3.connect(self.file) as target:
                connection.connection.backup(target)

    def take_back(self) -> None:
        if self.vendor == "sqlite":
            connection.close()
            connection.ensure_connection()
            with sqlite3.connect(self.file) as source:
                source.backup(connection.connection)


def _manage(env, *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **kwargs,
    )


def _wait_for(path: Path, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(process.stdout.read().decode())
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_s_photo_is_processed_once_after_recovery(catalog, tmp_path, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    case = make_case()
    photo = Photo.objects.create(
        case=case,
        original=photos.private_storage().save(f"originals/{case.reference}/a.jpg", _jpeg()),
        status="processing",
    )
    gate = tmp_path / "gate"
    gate.mkdir()
    task = process_photo_pausing.enqueue(photo.pk, str(gate))
    database = _Database(tmp_path)
    database.share()
    env = database.env(tmp_path)
    worker = [
        "db_worker",
        "--queue-name",
        "*",
        "--interval",
        "0.1",
        "--no-startup-delay",
        "--no-reload",
    ]

    first = _manage(env, *worker, "--worker-id", "first")
    try:
        _wait_for(gate / "stored", first)  # the copies are written, the photo not yet READY
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)

    # What django-tasks-db leaves: RUNNING for ever.
    time.sleep(0.2)
    check = _manage(env, "requeue_stale_tasks", "--older-than", "3600")
    assert "Requeued 0 task(s)" in check.communicate(timeout=120)[0].decode()
    recover = _manage(env, "requeue_stale_tasks", "--older-than", "0")
    assert "Requeued 1 task(s)" in recover.communicate(timeout=120)[0].decode()

    (gate / "go").touch()
    second = _manage(env, *worker, "--batch", "--worker-id", "second")
    output = second.communicate(timeout=120)[0].decode()
    assert second.returncode == 0, output
    database.take_back()

    row = DBTaskResult.objects.get(pk=task.id)
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.worker_ids == ["first", "second"]  # run again, once
    photo.refresh_from_db()
    assert photo.status == "ready"
    public = Path(settings.MEDIA_ROOT)
    written = sorted(str(p.relative_to(public)) for p in public.rglob("*") if p.is_file())
    # The effect exists once: the killed run's copies were replaced, not left beside.
    assert written == sorted([photo.full.name, photo.thumbnail.name])
