"""Create a channel for every active department that has none (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from cetatea.intranet.chat.services import chat_department_channels


class Command(BaseCommand):
    help = "Create one channel for each active department that has none."

    def handle(self, *args, **options):
        created = chat_department_channels()
        self.stdout.write(f"chat_department_channels: {created} channel(s) created")
