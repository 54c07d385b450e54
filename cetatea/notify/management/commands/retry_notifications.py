from django.core.management.base import BaseCommand

from cetatea.notify.services import notifications_retry


class Command(BaseCommand):
    help = (
        "Send queued notifications whose attempt is due: failed attempts are tried again "
        "with backoff (run every minute; safe to run twice at once)."
    )

    def handle(self, *args, **options):
        counts = notifications_retry()
        self.stdout.write(
            "notifications sent: {sent}, waiting: {queued}, failed: {failed}".format(**counts)
        )
