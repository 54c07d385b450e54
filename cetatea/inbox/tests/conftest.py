"""A real IMAP server for the e-mail tests: Debian's Dovecot on loopback.

The server is started once per test process with its own configuration in a temporary
directory (a passwd-file user, plaintext login on 127.0.0.1, a free port, maildir storage
owned by the ``dovecot`` system user) and stopped afterwards. Each test gets its own
folder, so tests never see each other's messages. ``scripts/mail-deps.sh`` (run by
``make test``) installs the package; without it, or without root, the tests skip.
"""

from __future__ import annotations

import imaplib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "primaria", "imap-test-password-7"
_folders = itertools.count(1)

CONFIG = """
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/home/%u
}}
mail_location = maildir:{base}/mail/%u
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int
    user: str
    password: str

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=30)
        conn.login(self.user, self.password)
        return conn


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def dovecot():
    if not os.path.exists(DOVECOT):
        pytest.skip("Dovecot is not installed: run scripts/mail-deps.sh as root (make test does)")
    if os.geteuid() != 0:
        pytest.skip("the test IMAP server (Dovecot) is started as root; not running as root")
    try:
        mail_user = pwd.getpwnam("dovecot")
    except KeyError:
        pytest.skip("the 'dovecot' system user is missing (reinstall dovecot-core)")
    base = Path(tempfile.mkdtemp(prefix="cetatea-dovecot-"))
    base.chmod(0o755)
    for sub in ("mail", "home"):
        (base / sub).mkdir()
        os.chown(base / sub, mail_user.pw_uid, mail_user.pw_gid)
    port = _free_port()
    (base / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    (base / "dovecot.conf").write_text(
        CONFIG.format(base=base, port=port, uid=mail_user.pw_uid, gid=mail_user.pw_gid)
    )
    proc = subprocess.Popen(  # noqa: S603 - our own fixed command line
        [DOVECOT, "-F", "-c", str(base / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = ImapServer("127.0.0.1", port, USER, PASSWORD)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                server.connect().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (
                        (base / "dovecot.log").read_text()
                        if (base / "dovecot.log").exists()
                        else ""
                    )
                    err = proc.stderr.read().decode() if proc.poll() is not None else ""
                    pytest.fail(f"Dovecot did not start: {err}\n{log}")
                time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(base, ignore_errors=True)


class Mailbox:
    """The test's own folder on the server: deliver (APPEND) and look (flags, counts)."""

    def __init__(self, server: ImapServer, folder: str):
        self.server = server
        self.folder = folder

    def _session(self) -> imaplib.IMAP4:
        conn = self.server.connect()
        conn.select(f'"{self.folder}"')
        return conn

    def deliver(self, raw: bytes) -> None:
        conn = self.server.connect()
        try:
            typ, data = conn.append(f'"{self.folder}"', None, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def search(self, criterion: str, folder: str | None = None) -> list[bytes]:
        conn = self.server.connect()
        try:
            typ, _data = conn.select(f'"{folder or self.folder}"')
            if typ != "OK":
                return []
            return conn.uid("SEARCH", None, criterion)[1][0].split()
        finally:
            conn.logout()

    def mark_all_unseen(self) -> None:
        conn = self._session()
        try:
            conn.uid("STORE", "1:*", "-FLAGS", r"(\Seen)")
        finally:
            conn.logout()


@pytest.fixture
def mailbox(dovecot, settings):
    """A fresh folder, and fetch_mail's settings pointed at it (plain IMAP on loopback)."""
    folder = f"t{os.getpid()}-{next(_folders)}"
    conn = dovecot.connect()
    conn.create(f'"{folder}"')
    conn.logout()
    settings.CETATEA_IMAP_HOST = dovecot.host
    settings.CETATEA_IMAP_PORT = dovecot.port
    settings.CETATEA_IMAP_USER = dovecot.user
    settings.CETATEA_IMAP_PASSWORD = dovecot.password
    settings.CETATEA_IMAP_SSL = False
    settings.CETATEA_IMAP_FOLDER = folder
    settings.CETATEA_IMAP_AFTER = "seen"
    settings.CETATEA_IMAP_MOVE_TO = f"{folder}-done"
    return Mailbox(dovecot, folder)


@pytest.fixture
def inbox_catalog(catalog, settings):
    """The test catalogue plus the general "Other" category e-mails are filed under."""
    from cetatea.catalog.models import Category

    catalog["other"] = Category.objects.create(
        code="OTHER",
        name_ro="Altele",
        name_en="Other",
        department=catalog["public"],
        target_hours=240,
        regime="petition",
    )
    settings.CETATEA_INBOX_CATEGORY = "OTHER"
    settings.DEFAULT_FROM_EMAIL = "Primăria <cetatea@primaria.test>"
    return catalog
