"""``manage.py read_mail``: take in one RFC 822 message from standard input.

For a mail server that pipes messages to a program (Postfix ``pipe``, an alias
``|command``, Exim's pipe transport). Exit status, as sendmail's sysexits:
0 stored (or already stored), 65 (EX_DATAERR) a message that can never be taken in
(empty, too large) so the server bounces it, 75 (EX_TEMPFAIL) anything else so the
server keeps it and retries. The reason is written to standard error.
"""

from __future__ import annotations

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from cetatea.inbox.choices import Source
from cetatea.inbox.services import inbound_message_process

EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Read one e-mail message from standard input and file it (for piping MTAs)."
    stealth_options = ("stdin",)  # a binary stream in place of standard input (tests)

    def handle(self, *args, **options):
        stdin = options.get("stdin") or sys.stdin.buffer
        raw = stdin.read()
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            result = inbound_message_process(raw=raw, source=Source.PIPE)
        except ValidationError as exc:
            self.stderr.write("read_mail: " + "; ".join(exc.messages))
            sys.exit(EX_DATAERR)
        except Exception as exc:  # database down and the like: let the server retry
            self.stderr.write(f"read_mail: temporary failure: {type(exc).__name__}: {exc}")
            sys.exit(EX_TEMPFAIL)
        message = result.message
        if not result.stored:
            self.stderr.write(f"read_mail: not taken in: {message.error}")
            sys.exit(EX_TEMPFAIL)
        state = "stored" if result.is_new else "already stored"
        case = f" {message.case.reference}" if message.case_id else ""
        self.stdout.write(f"{state}: {message.get_outcome_display()}{case}")
