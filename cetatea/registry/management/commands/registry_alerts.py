"""``manage.py registry_alerts``: the daily deadline digest of the registry, per department.

Idempotent: an entry is alerted once per day whatever the number of runs, so it can run
from a timer every few minutes (``scripts/serve.sh`` runs it every 5).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from cetatea.registry.alerts import digest_body, digest_subject, registry_deadline_alerts


class Command(BaseCommand):
    help = (
        "E-mail each department (and the registry points' clerks) the open registry entries "
        "past their legal term or ending within N days, once a day. Safe to run from a timer."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=(
                "alert this many days before the term ends "
                f"(default CETATEA_REGISTRY_ALERT_DAYS, now {settings.CETATEA_REGISTRY_ALERT_DAYS})"
            ),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="print the digests; write and send nothing"
        )

    def handle(self, *args, **options):
        try:
            run = registry_deadline_alerts(soon_days=options["days"], dry_run=options["dry_run"])
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
        if options["dry_run"]:
            for digest in run.digests:
                to = ", ".join(digest.recipients) or "(nobody to notify)"
                self.stdout.write(f"To: {to}\nSubject: {digest_subject(digest)}\n")
                self.stdout.write(digest_body(digest) + "\n")
        verb = "would alert" if options["dry_run"] else "alerted"
        self.stdout.write(
            f"registry alerts {run.today:%Y-%m-%d}: {verb} {run.alerted} entries in "
            f"{len(run.digests)} digests ({run.mails} mails); "
            f"{run.already_alerted} already alerted today"
        )
