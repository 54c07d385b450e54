from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from cetatea.intake import services


class Command(BaseCommand):
    help = (
        "Escalate open cases about to breach their due time (to the department head) or "
        "breached for long (to the managers). Idempotent: run it from a timer every few minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--warn-hours",
            type=float,
            default=services.DEFAULT_WARN_HOURS,
            help="warn this many hours before the due time (default %(default)s)",
        )
        parser.add_argument(
            "--warn-fraction",
            type=float,
            default=services.DEFAULT_WARN_FRACTION,
            help="... or this fraction of the target time, whichever is less (default %(default)s)",
        )
        parser.add_argument(
            "--manager-after-hours",
            type=float,
            default=services.DEFAULT_MANAGER_AFTER_HOURS,
            help="tell the managers when breached for this long (default %(default)s)",
        )
        parser.add_argument("--batch", type=int, default=services.DEFAULT_BATCH)

    def handle(self, *args, **options):
        try:
            run = services.escalate_cases(
                warn_hours=options["warn_hours"],
                warn_fraction=options["warn_fraction"],
                manager_after_hours=options["manager_after_hours"],
                batch=options["batch"],
            )
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
        self.stdout.write(f"escalations: {len(run.escalated)}")
