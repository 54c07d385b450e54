"""Clear personal data past its retention term (daily; scripts/serve.sh)."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand

from cetatea.privacy import retention


class Command(BaseCommand):
    help = "Apply the retention terms (CETATEA_RETENTION_*); idempotent, in batches."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be cleared; change nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        verb = "would clear" if dry_run else "cleared"
        for rule in retention.RULES:
            outcome = retention.apply_rule(rule, dry_run=dry_run)
            if outcome.skipped:
                self.stdout.write(f"{rule.key}: {outcome.skipped}")
            else:
                self.stdout.write(
                    f"{rule.key}: {verb} {outcome.count} (older than {outcome.days} days; "
                    f"{rule.description})"
                )
        # Expired sessions (Django's own command; signed-in users' cookies expire anyway).
        if dry_run:
            self.stdout.write("sessions: expired sessions would be cleared")
        else:
            call_command("clearsessions")
            self.stdout.write("sessions: expired sessions cleared")
