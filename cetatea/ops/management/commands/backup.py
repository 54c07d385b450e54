"""manage.py backup [--output DIR] [--keep N]: one archive of the database and files."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cetatea.ops.backup import BackupError, create_backup


class Command(BaseCommand):
    help = (
        "Write one tar archive (database, uploaded files, manifest with SHA-256 and counts) "
        "into the backup directory, then keep only the newest --keep archives."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            default=None,
            help="Directory of the archives (default: CETATEA_BACKUP_DIR).",
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=None,
            help="How many archives to keep there (default: CETATEA_BACKUP_KEEP; 0 keeps all).",
        )
        parser.add_argument("--quiet", action="store_true", help="Print only the archive's path.")

    def handle(self, *args, **options):
        output = Path(options["output"] or settings.CETATEA_BACKUP_DIR)
        keep = settings.CETATEA_BACKUP_KEEP if options["keep"] is None else options["keep"]
        if keep < 0:
            raise CommandError("--keep must be 0 or more.")
        quiet = options["quiet"]

        def report(line: str) -> None:
            if not quiet:
                self.stdout.write(line)

        try:
            path, manifest = create_backup(output_dir=output, keep=keep, report=report)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if not quiet:
            for label, n in manifest["counts"].items():
                self.stdout.write(f"  {label}: {n}")
        self.stdout.write(str(path))
