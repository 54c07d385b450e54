"""E-mail each person what they missed in the intranet's messages (run every 5 minutes)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from cetatea.intranet.chat.digest import chat_digest_send


class Command(BaseCommand):
    help = "E-mail the intranet messages each person missed (idempotent; run every 5 minutes)."

    def handle(self, *args, **options):
        sent = chat_digest_send()
        self.stdout.write(f"chat_digest: {sent} e-mail(s) sent")
