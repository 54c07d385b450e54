"""Recovery of background tasks whose worker died (docs/benchmarks.md, "Fault tests").

django-tasks-db (0.13) marks a task RUNNING when a worker claims it and SUCCESSFUL or
FAILED when the task returns. A worker that stops without returning (SIGKILL, out of
memory, a power cut, a container killed) leaves the task RUNNING for ever: nothing in
the library looks at it again. A gracefully stopped worker (SIGTERM, Ctrl-C) finishes
its task first and is not a concern.

``requeue_stale_tasks`` (the management command of the same name, run by the timer in
``scripts/serve.sh``) puts a task that has been RUNNING longer than a limit back to
READY, so the next free worker runs it again; after ``max_attempts`` workers lost on
the same task it is marked FAILED instead, so a task that kills its worker (a photo that
exhausts memory) cannot loop for ever.

Running a task twice must do its effect once, and ours do: photo processing writes its
copies under names fixed per photo and marks the photo READY with a conditional update
(``cetatea.cases.photos``); text extraction overwrites one row; a notification is taken
with a conditional update and its own lease (``cetatea.notify``). E-mail sent by
``cetatea.portal.mail`` is at least once: a worker killed after the SMTP server took the
message and before the task was marked done sends it again.

The limit must be longer than the longest task: a task still running when it passes is
run a second time beside the first (harmless for the tasks above, but wasted work).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

DEFAULT_OLDER_THAN = dt.timedelta(minutes=30)
DEFAULT_MAX_ATTEMPTS = 3
_BATCH = 500


class WorkerLost(Exception):
    """Recorded as the error of a task whose workers died ``max_attempts`` times."""


@dataclass
class RequeueRun:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def requeue_stale_tasks(
    *,
    older_than: dt.timedelta = DEFAULT_OLDER_THAN,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> RequeueRun:
    """Put tasks RUNNING since before ``now - older_than`` back to READY (or FAILED after
    ``max_attempts`` claims). Each row is changed by a conditional UPDATE on its status
    and start time, so a task that finishes meanwhile, or a concurrent run of this
    function, is never touched twice."""
    now = now or timezone.now()
    run = RequeueRun()
    stale = (
        DBTaskResult.objects.running()
        .filter(started_at__lt=now - older_than)
        .order_by("started_at")
        .values_list("pk", "started_at", "worker_ids", "task_path")
    )
    for pk, started_at, worker_ids, task_path in stale[:_BATCH]:
        same = DBTaskResult.objects.filter(
            pk=pk, status=TaskResultStatus.RUNNING, started_at=started_at
        )
        attempts = len(worker_ids or [])
        if attempts >= max_attempts:
            if dry_run or same.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                traceback=(
                    f"WorkerLost: the worker running this task stopped {attempts} times "
                    "without finishing it (killed, out of memory, restarted); not tried again."
                ),
            ):
                run.failed.append(str(pk))
                logger.warning(
                    "Task %s (%s) failed: its worker was lost %d times", pk, task_path, attempts
                )
        elif dry_run or same.update(status=TaskResultStatus.READY):
            run.requeued.append(str(pk))
            logger.warning(
                "Task %s (%s) requeued: RUNNING since %s, its worker was lost",
                pk,
                task_path,
                started_at.isoformat(),
            )
    return run
