"""E-mail reminders before (and once after) the due time of open tasks.

Run it every few minutes from a timer; running it twice sends nothing twice.
"""

from django.core.management.base import BaseCommand

from cetatea.intranet.tasks.services import task_reminders_send


class Command(BaseCommand):
    help = "Send task reminders: 24 hours and 1 hour before the due time, and once overdue."

    def handle(self, *args, **options):
        sent = task_reminders_send()
        self.stdout.write(f"{sent} reminder(s) sent")
