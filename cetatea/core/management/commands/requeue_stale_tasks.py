"""Put background tasks whose worker died back in the queue (``cetatea.core.taskqueue``)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from cetatea.core import taskqueue


class Command(BaseCommand):
    help = (
        "Tasks RUNNING for longer than --older-than seconds (their worker was killed) go "
        "back to READY; after --max-attempts lost workers they are marked FAILED. "
        "Safe to run at any time and twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=int(taskqueue.DEFAULT_OLDER_THAN.total_seconds()),
            help="seconds a task may run before it is taken as lost (default: %(default)s); "
            "longer than the longest task",
        )
        parser.add_argument(
            "--max-attempts",
            type=int,
            default=taskqueue.DEFAULT_MAX_ATTEMPTS,
            help="workers lost on one task before it is marked failed (default: %(default)s)",
        )
        parser.add_argument("--dry-run", action="store_true", help="list, change nothing")

    def handle(self, *, older_than: int, max_attempts: int, dry_run: bool, **options):
        if older_than < 0 or max_attempts < 1:
            raise CommandError("--older-than must be 0 or more and --max-attempts 1 or more.")
        run = taskqueue.requeue_stale_tasks(
            older_than=dt.timedelta(seconds=older_than),
            max_attempts=max_attempts,
            dry_run=dry_run,
        )
        verb = "Would requeue" if dry_run else "Requeued"
        self.stdout.write(
            f"{verb} {len(run.requeued)} task(s); "
            f"{'would mark' if dry_run else 'marked'} {len(run.failed)} failed."
        )
