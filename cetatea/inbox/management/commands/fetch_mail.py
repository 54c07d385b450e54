"""``manage.py fetch_mail``: take in the unseen messages of the city's mailbox (IMAP).

Safe to run every minute from a timer: messages are recorded once per Message-ID and a
message is only marked (seen, moved or deleted per CETATEA_IMAP_AFTER) after it is stored.
Exit status 1 when the mailbox cannot be reached or a message was left for the next run.
"""

from __future__ import annotations

import imaplib

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from cetatea.inbox.imap import Mailbox, describe, fetch_mailbox


class Command(BaseCommand):
    help = "Fetch unseen e-mail from the IMAP mailbox and file it as cases or case notes."

    def handle(self, *args, **options):
        try:
            box = Mailbox.from_settings()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        try:
            report = fetch_mailbox(box)
        except (TimeoutError, imaplib.IMAP4.error, OSError) as exc:
            raise CommandError(f"IMAP {box.host}:{box.port}: {exc}") from exc
        self.stdout.write(describe(report))
        for line in report.failed:
            self.stderr.write(f"not taken in, will retry: {line}")
        if report.failed:
            raise CommandError(f"{len(report.failed)} message(s) left for the next run")
