"""Re-encrypt every national id with the newest key of CETATEA_NATIONAL_ID_KEYS."""

from django.core.management.base import BaseCommand
from django.db import transaction

from cetatea.core import crypto
from cetatea.people.models import Person


class Command(BaseCommand):
    help = "Re-encrypt all national ids with the first key in CETATEA_NATIONAL_ID_KEYS."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args, batch: int, **options):
        last_pk, done = 0, 0
        while True:
            with transaction.atomic():
                rows = list(
                    Person.objects.filter(pk__gt=last_pk)
                    .exclude(national_id_encrypted="")
                    .order_by("pk")
                    .only("pk", "national_id_encrypted")[:batch]
                )
                if not rows:
                    break
                for person in rows:
                    person.national_id_encrypted = crypto.rotate(person.national_id_encrypted)
                Person.objects.bulk_update(rows, ["national_id_encrypted"])
            last_pk = rows[-1].pk
            done += len(rows)
            self.stdout.write(f"re-encrypted {done} national ids")
        self.stdout.write(self.style.SUCCESS(f"done: {done} national ids re-encrypted"))
