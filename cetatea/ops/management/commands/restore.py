"""manage.py restore ARCHIVE [--force]: bring back a backup and check it."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cetatea.ops.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup archive (database and files) into this installation, after "
        "checking every member's SHA-256; then compare the row counts with the manifest. "
        "Refuses a database or storage that already holds data unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="The .tar written by manage.py backup.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace the database and overwrite files even when they hold data.",
        )

    def handle(self, *args, **options):
        try:
            result = restore_backup(
                archive=options["archive"], force=options["force"], report=self.stdout.write
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = result.manifest
        self.stdout.write(f"Backup of {manifest['created_at']} ({manifest['database']['vendor']})")
        for label, (expected, found) in result.counts.items():
            mark = "ok" if expected == found else "MISMATCH"
            self.stdout.write(f"  {label}: {found} of {expected} {mark}")
        for alias, n in result.files.items():
            self.stdout.write(f"  files in {alias}: {n}")
        for note in result.notes:
            self.stdout.write(self.style.WARNING(note))
        if not result.ok:
            raise CommandError("The restored installation does not match the manifest.")
        self.stdout.write(self.style.SUCCESS("Restore complete; every count matches."))
