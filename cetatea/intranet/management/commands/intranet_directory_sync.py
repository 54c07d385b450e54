"""Rewrite the staff directory's name keys of every account (after a bulk load)."""

from django.core.management.base import BaseCommand

from cetatea.intranet.services import directory_sync


class Command(BaseCommand):
    help = "Rewrite the staff directory's search keys from the accounts' names."

    def handle(self, *args, **options):
        count = directory_sync()
        self.stdout.write(f"{count} accounts indexed.")
