from django.core.management.base import BaseCommand

from cetatea.portal.alerts import send_alerts


class Command(BaseCommand):
    help = "E-mail new reports and updates to confirmed subscribers (run every minute)."

    def handle(self, *args, **options):
        sent = send_alerts()
        self.stdout.write(f"alerts sent: {sent}")
