"""Reads from a PostgreSQL streaming replica, where that is safe (docs/deploy.md).

Turned on by ``DATABASE_REPLICA_URL`` (settings add the ``replica`` alias, this router and
``ReplicaMiddleware``). The rule is narrow on purpose, so nobody ever reads stale data
after their own write:

- only a ``GET`` or ``HEAD`` request reads from the replica — the middleware opens a
  "replica allowed" scope around it; workers, management commands, the phone robot and
  every ``POST``/``PUT``/``PATCH``/``DELETE`` read from the primary;
- a request that writes (any unsafe request, and a GET that writes: an e-mailed
  confirmation link, a session saved) reads from the primary from that write on, and its
  browser gets a cookie that pins it to the primary for ``CETATEA_REPLICA_PIN_SECONDS``
  (replication lag is normally well under a second), so the page after "saved" shows
  what was saved;
- a read inside a transaction (``transaction.atomic``) goes to the primary, so a
  read-then-write (``select_for_update``, counters) never mixes the two;
- every write, and every migration, goes to the primary;
- a replica that cannot be reached is left alone for ``REPLICA_RETRY_SECONDS``: the safe
  requests of that process read from the primary meanwhile (a warning is logged), so a
  replica's outage costs at most the one request that was reading from it when it went.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
PIN_COOKIE = "cetatea_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# After a failed connection to the replica, reads stay on the primary this long.
REPLICA_RETRY_SECONDS = 10.0

logger = logging.getLogger(__name__)
_replica_down_until = 0.0

_replica_allowed: ContextVar[bool] = ContextVar("cetatea_replica_allowed", default=False)
_wrote: ContextVar[bool] = ContextVar("cetatea_wrote", default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Let reads outside a transaction go to the replica within this block."""
    token = _replica_allowed.set(True)
    try:
        yield
    finally:
        _replica_allowed.reset(token)


@contextmanager
def primary_reads() -> Iterator[None]:
    """Read from the primary within this block (the default outside a safe request)."""
    token = _replica_allowed.set(False)
    try:
        yield
    finally:
        _replica_allowed.reset(token)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_usable() -> bool:
    """Whether this process may read from the replica now: it answers (a connection is
    open or can be opened), or it failed more than ``REPLICA_RETRY_SECONDS`` ago."""
    global _replica_down_until
    if time.monotonic() < _replica_down_until:
        return False
    try:
        connections[REPLICA].ensure_connection()
    except DatabaseError as error:
        _replica_down_until = time.monotonic() + REPLICA_RETRY_SECONDS
        logger.warning(
            "The database replica cannot be reached (%s); reading from the primary for %d s",
            type(error).__name__,
            REPLICA_RETRY_SECONDS,
        )
        return False
    return True


class PrimaryReplicaRouter:
    """Writes and migrations to the primary; reads to the replica where it is safe."""

    def db_for_read(self, model, **hints) -> str:
        if not _replica_allowed.get() or not replica_configured():
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model, **hints) -> str:
        # Whatever this request reads from now on may be what it just wrote.
        _replica_allowed.set(False)
        _wrote.set(True)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Both aliases hold the same database.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS


class ReplicaMiddleware:
    """Opens the replica scope for safe requests of a browser that has not written lately."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        safe = request.method in SAFE_METHODS
        use_replica = safe and not _pinned(request) and replica_usable()
        scope = replica_reads if use_replica else primary_reads
        wrote = _wrote.set(False)
        try:
            with scope():
                response = self.get_response(request)
            written = _wrote.get()
        finally:
            _wrote.reset(wrote)
        if written or not safe:
            seconds = settings.CETATEA_REPLICA_PIN_SECONDS
            response.set_cookie(
                PIN_COOKIE,
                str(int(time.time()) + seconds),
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


def _pinned(request: HttpRequest) -> bool:
    value = request.COOKIES.get(PIN_COOKIE, "")
    try:
        return int(value) > time.time()
    except ValueError:
        return False
