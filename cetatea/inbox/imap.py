"""Fetching a mailbox over IMAP (imaplib), for ``manage.py fetch_mail``.

Unseen messages are read with ``BODY.PEEK[]`` (which leaves them unseen), taken in one by
one, and only then marked seen, moved or deleted. A message that could not be taken in
stays unseen and is tried again on the next run; a message taken in before (same
Message-ID) is recognised and only marked. So the command is safe to run every minute
from a timer, and two runs overlapping record nothing twice.
"""

from __future__ import annotations

import imaplib
import logging
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError

from cetatea.inbox.choices import AfterFetch, Source
from cetatea.inbox.services import inbound_message_process

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mailbox:
    host: str
    port: int
    user: str
    password: str
    ssl: bool = True
    folder: str = "INBOX"
    after: str = AfterFetch.SEEN
    move_to: str = "Processed"
    batch: int = 200
    timeout: float = 60.0

    @classmethod
    def from_settings(cls) -> Mailbox:
        if not settings.CETATEA_IMAP_HOST or not settings.CETATEA_IMAP_USER:
            raise ImproperlyConfigured(
                "Set CETATEA_IMAP_HOST and CETATEA_IMAP_USER (docs/configuration.md)."
            )
        if settings.CETATEA_IMAP_AFTER not in AfterFetch.values:
            raise ImproperlyConfigured(
                f"CETATEA_IMAP_AFTER must be one of {', '.join(AfterFetch.values)}."
            )
        return cls(
            host=settings.CETATEA_IMAP_HOST,
            port=settings.CETATEA_IMAP_PORT,
            user=settings.CETATEA_IMAP_USER,
            password=settings.CETATEA_IMAP_PASSWORD,
            ssl=settings.CETATEA_IMAP_SSL,
            folder=settings.CETATEA_IMAP_FOLDER,
            after=settings.CETATEA_IMAP_AFTER,
            move_to=settings.CETATEA_IMAP_MOVE_TO,
            batch=settings.CETATEA_IMAP_BATCH,
        )


@dataclass
class FetchReport:
    seen: int = 0  # unseen messages found in this run (at most one batch)
    new: int = 0  # taken in for the first time
    repeated: int = 0  # already taken in before (same Message-ID): only marked
    failed: list[str] = field(default_factory=list)  # left unseen, tried again next run
    outcomes: dict[str, int] = field(default_factory=dict)


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(response: tuple, what: str) -> list:
    typ, data = response
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{what}: {typ} {data!r}")
    return data


def _connect(box: Mailbox) -> imaplib.IMAP4:
    if box.ssl:
        conn = imaplib.IMAP4_SSL(box.host, box.port, timeout=box.timeout)
    else:
        conn = imaplib.IMAP4(box.host, box.port, timeout=box.timeout)
    try:
        _check(conn.login(box.user, box.password), "LOGIN")
    except Exception:
        conn.shutdown()
        raise
    return conn


def _raw_message(data: list) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def fetch_mailbox(box: Mailbox) -> FetchReport:
    """Take in the unseen messages of ``box.folder`` (at most ``box.batch`` per run)."""
    report = FetchReport()
    conn = _connect(box)
    try:
        _check(conn.select(_quote(box.folder)), f"SELECT {box.folder}")
        if box.after == AfterFetch.MOVE:
            conn.create(_quote(box.move_to))  # "already exists" is fine
        uids = _check(conn.uid("SEARCH", None, "UNSEEN"), "SEARCH")[0].split()
        uids = uids[: box.batch]
        report.seen = len(uids)
        done: list[bytes] = []
        for uid in uids:
            data = _check(conn.uid("FETCH", uid, "(BODY.PEEK[])"), f"FETCH {uid!r}")
            raw = _raw_message(data)
            if raw is None:
                continue  # expunged by someone else meanwhile
            try:
                result = inbound_message_process(raw=raw, source=Source.IMAP)
            except ValidationError as exc:  # too large or empty: never takeable
                report.failed.append(f"UID {uid.decode()}: {'; '.join(exc.messages)}")
                continue
            if not result.stored:
                report.failed.append(f"UID {uid.decode()}: {result.message.error}")
                continue
            outcome = result.message.outcome
            if result.is_new:
                report.new += 1
                report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
            else:
                report.repeated += 1
            _after(conn, box, uid)
            done.append(uid)
        if box.after in (AfterFetch.DELETE, AfterFetch.MOVE) and done:
            conn.expunge()
        conn.close()
    finally:
        try:
            conn.logout()
        except (TimeoutError, imaplib.IMAP4.error, OSError):
            pass
    return report


def _after(conn: imaplib.IMAP4, box: Mailbox, uid: bytes) -> None:
    if box.after == AfterFetch.SEEN:
        _check(conn.uid("STORE", uid, "+FLAGS", r"(\Seen)"), "STORE")
    elif box.after == AfterFetch.DELETE:
        _check(conn.uid("STORE", uid, "+FLAGS", r"(\Seen \Deleted)"), "STORE")
    else:
        _check(conn.uid("STORE", uid, "+FLAGS", r"(\Seen)"), "STORE")
        capabilities = {c.upper() for c in conn.capabilities}
        if "MOVE" in capabilities:
            _check(conn.uid("MOVE", uid, _quote(box.move_to)), "MOVE")
        else:
            _check(conn.uid("COPY", uid, _quote(box.move_to)), "COPY")
            _check(conn.uid("STORE", uid, "+FLAGS", r"(\Deleted)"), "STORE")


def describe(report: FetchReport) -> str:
    parts = [f"{report.seen} unseen", f"{report.new} taken in", f"{report.repeated} already known"]
    parts += [f"{n} {name}" for name, n in sorted(report.outcomes.items())]
    if report.failed:
        parts.append(f"{len(report.failed)} left for the next run")
    return re.sub(r"\s+", " ", ", ".join(parts))
