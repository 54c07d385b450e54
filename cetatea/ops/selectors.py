"""Reads behind /healthz and /metrics. Each is a few index ranges: none grows with the
number of cases, entries, calls or finished tasks (docs/operations.md)."""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db.models import Case, Count, F, Min, Q, Sum, When
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from cetatea.ops.models import BackupRun

READY, RUNNING = "READY", "RUNNING"
# Served by the partial indexes ops_task_ready_idx and ops_task_running_idx (migration
# 0002): only the tasks waiting or running are in them, whatever the number of finished.


@dataclass
class QueueStats:
    queue: str
    ready: int = 0  # may run now
    scheduled: int = 0  # READY, but with a run_after in the future (a retry, a delay)
    running: int = 0
    oldest_ready_at: dt.datetime | None = None


def _ready_now(now: dt.datetime) -> Q:
    return Q(run_after=get_date_max()) | Q(run_after__lte=now)


def _ready_since():
    """When a ready task became runnable: its run_after, or when it was enqueued."""
    return Case(When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after"))


def task_queues(now: dt.datetime | None = None) -> list[QueueStats]:
    """Waiting and running tasks per queue (django-tasks-db), with the oldest ready one."""
    now = now or timezone.now()
    ready_now = _ready_now(now)
    out: dict[str, QueueStats] = {}
    waiting = (
        DBTaskResult.objects.filter(status=READY)
        .order_by()
        .values("queue_name")
        .annotate(
            ready=Count("id", filter=ready_now),
            waiting=Count("id"),
            oldest=Min(_ready_since(), filter=ready_now),
        )
    )
    for row in waiting:
        out[row["queue_name"]] = QueueStats(
            queue=row["queue_name"],
            ready=row["ready"],
            scheduled=row["waiting"] - row["ready"],
            oldest_ready_at=row["oldest"],
        )
    running = (
        DBTaskResult.objects.filter(status=RUNNING)
        .order_by()
        .values("queue_name")
        .annotate(n=Count("id"))
        .values_list("queue_name", "n")
    )
    for queue, n in running:
        out.setdefault(queue, QueueStats(queue=queue)).running = n
    return sorted(out.values(), key=lambda s: s.queue)


def oldest_ready_task_at(now: dt.datetime | None = None) -> dt.datetime | None:
    """When the task that has waited longest became ready (two index seeks), or None."""
    now = now or timezone.now()
    ready = DBTaskResult.objects.filter(status=READY)
    candidates = [
        # Tasks without run_after: the first enqueued.
        ready.filter(run_after=get_date_max())
        .order_by("enqueued_at")
        .values_list("enqueued_at", flat=True)
        .first(),
        # Tasks whose run_after has passed: the earliest run_after.
        ready.filter(run_after__lte=now)
        .order_by("run_after")
        .values_list("run_after", flat=True)
        .first(),
    ]
    found = [c for c in candidates if c is not None]
    return min(found) if found else None


def storage_writable(alias: str) -> bool | None:
    """Whether a storage on local disk can be written (a permission and read-only
    check, no write); None for object storage, which is not probed on every call."""
    storage = storages[alias]
    if not isinstance(storage, FileSystemStorage):
        return None
    path = str(storage.location)
    while path and not os.path.exists(path):  # created on the first save
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return os.access(path, os.W_OK | os.X_OK)


def file_storage_aliases() -> list[str]:
    """The storages that hold uploaded files (every alias but the static files')."""
    return [alias for alias in settings.STORAGES if alias != "staticfiles"]


# ------------------------------------------------------------------ indicators


def _department_codes() -> dict[str, str]:
    from cetatea.catalog.models import Department

    return {str(pk): code for pk, code in Department.objects.values_list("pk", "code")}


def case_backlog() -> dict[str, tuple[int, int]]:
    """Open and overdue cases per department code ("none": no department), from the
    overview's snapshot (insights_refresh, every 5 minutes)."""
    from cetatea.insights import metrics as m
    from cetatea.insights.models import Snapshot

    codes = _department_codes()
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    rows = Snapshot.objects.filter(dim="dch", metric__in=[m.OPEN_NOW, m.OVERDUE_NOW])
    for key, metric, n in rows.values_list("key", "metric", "n"):
        department = key.split("|", 1)[0]
        label = codes.get(department, "none")
        out[label][0 if metric == m.OPEN_NOW else 1] += n
    return {label: (v[0], v[1]) for label, v in out.items()}


def registry_terms() -> dict[str, tuple[int, int]]:
    """Open registry entries with a legal term, and those past it, per regime
    (petition, info_544), from the overview's snapshot."""
    from cetatea.insights import metrics as m
    from cetatea.insights.models import Snapshot

    regimes = {m.PETITION: "petition", m.INFO_544: "info_544"}
    out: dict[str, list[int]] = {name: [0, 0] for name in regimes.values()}
    metrics = [p + s for p in regimes for s in (m.LEGAL_OPEN_NOW, m.LEGAL_LATE_NOW)]
    rows = Snapshot.objects.filter(dim=m.REGISTRY_DIM, metric__in=metrics)
    for metric, total in (
        rows.order_by().values("metric").annotate(t=Sum("n")).values_list("metric", "t")
    ):
        for prefix, name in regimes.items():
            if metric == prefix + m.LEGAL_OPEN_NOW:
                out[name][0] += total
            elif metric == prefix + m.LEGAL_LATE_NOW:
                out[name][1] += total
    return {name: (v[0], v[1]) for name, v in out.items()}


ROBOT_OUTCOMES = {
    "rb_ident": "identified",
    "rb_self": "self_served",
    "rb_xfer": "transferred",
    "rb_hang": "hung_up",
}


def robot_calls(today: dt.date | None = None) -> dict[str, int]:
    """Phone robot calls ever counted by the overview: ``calls`` and each outcome.

    Whole months from the month rows, the current month from its day rows: two index
    ranges of the overview's counts."""
    from cetatea.insights import metrics as m
    from cetatea.insights.models import Count as Counted
    from cetatea.insights.models import Grain

    today = today or timezone.localdate()
    first = today.replace(day=1)
    names = [m.ROBOT_CALLS, *ROBOT_OUTCOMES]
    totals = dict.fromkeys(names, 0)
    base = Counted.objects.filter(dim=m.ROBOT_DIM, metric__in=names)
    for qs in (
        base.filter(grain=Grain.MONTH, period__lt=first),
        base.filter(grain=Grain.DAY, period__gte=first),
    ):
        for metric, n in (
            qs.order_by().values("metric").annotate(t=Sum("n")).values_list("metric", "t")
        ):
            totals[metric] += n or 0
    return totals


def insights_refreshed_at() -> dt.datetime | None:
    from cetatea.insights.models import RefreshState

    return RefreshState.objects.filter(pk="main").values_list("refreshed_at", flat=True).first()


def last_backup() -> BackupRun | None:
    return BackupRun.objects.order_by("-finished_at").first()
