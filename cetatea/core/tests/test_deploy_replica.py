"""Reads from a PostgreSQL streaming replica (cetatea/core/dbrouter.py, docs/deploy.md).

The routing rules are tested everywhere; the real replication test needs PostgreSQL and a
replica of it on 127.0.0.1:5433 (``scripts/pg-replica.sh`` makes one), else it is skipped.
The test database made on the primary reaches the replica by streaming replication like
everything else, so the ``replica`` alias points at the same database name on port 5433.
"""

from __future__ import annotations

import os
import socket
import time

import pytest
from django.db import connection, connections, router
from django.db.utils import load_backend
from django.http import HttpResponse
from django.test import RequestFactory

from cetatea.catalog.models import Department
from cetatea.core import dbrouter
from cetatea.core.dbrouter import (
    PIN_COOKIE,
    PrimaryReplicaRouter,
    ReplicaMiddleware,
    primary_reads,
    replica_reads,
)

REPLICA_PORT = int(os.environ.get("CETATEA_TEST_REPLICA_PORT", "5433"))
ROUTER = "cetatea.core.dbrouter.PrimaryReplicaRouter"


@pytest.fixture
def routed(settings, monkeypatch):
    """The router on, with a ``replica`` alias named in the settings."""
    settings.DATABASE_ROUTERS = [ROUTER]
    monkeypatch.setattr(dbrouter, "replica_configured", lambda: True)
    monkeypatch.setattr(dbrouter, "replica_usable", lambda: True)


def test_reads_go_to_the_replica_only_inside_the_replica_scope(routed):
    assert router.db_for_read(Department) == "default"  # workers, commands, the robot
    with replica_reads():
        assert router.db_for_read(Department) == "replica"
        with primary_reads():
            assert router.db_for_read(Department) == "default"
        assert router.db_for_read(Department) == "replica"
        # Writes go to the primary, and so does every read after a write.
        assert router.db_for_write(Department) == "default"
        assert router.db_for_read(Department) == "default"
    assert router.db_for_read(Department) == "default"


@pytest.mark.django_db
def test_reads_inside_a_transaction_stay_on_the_primary(routed):
    from django.db import transaction

    with replica_reads(), transaction.atomic():
        assert router.db_for_read(Department) == "default"


def test_without_a_replica_alias_everything_is_the_primary(settings):
    settings.DATABASE_ROUTERS = [ROUTER]
    assert "replica" not in settings.DATABASES
    with replica_reads():
        assert router.db_for_read(Department) == "default"


def test_migrations_run_on_the_primary_only():
    assert PrimaryReplicaRouter().allow_migrate("default", "cases") is True
    assert PrimaryReplicaRouter().allow_migrate("replica", "cases") is False


def run_middleware(settings, method: str, cookies: dict | None = None):
    """Where a read in the view would go, and the response."""
    seen = {}

    def view(request):
        seen["db"] = router.db_for_read(Department)
        return HttpResponse("ok")

    request = getattr(RequestFactory(), method.lower())("/harta/")
    request.COOKIES.update(cookies or {})
    response = ReplicaMiddleware(view)(request)
    return seen["db"], response


def test_get_reads_from_the_replica(routed, settings):
    db, response = run_middleware(settings, "GET")
    assert db == "replica" and PIN_COOKIE not in response.cookies


def test_a_get_that_writes_reads_its_write_from_the_primary_and_pins(routed, settings):
    """An e-mailed confirmation link is a GET that writes; the next page must show it."""
    seen = []

    def view(request):
        seen.append(router.db_for_read(Department))
        router.db_for_write(Department)  # what Model.save() asks
        seen.append(router.db_for_read(Department))
        return HttpResponse("ok")

    response = ReplicaMiddleware(view)(RequestFactory().get("/confirmare/abc/"))
    assert seen == ["replica", "default"]
    assert PIN_COOKIE in response.cookies
    db, _ = run_middleware(settings, "GET", {PIN_COOKIE: response.cookies[PIN_COOKIE].value})
    assert db == "default"


def test_post_reads_from_the_primary_and_pins_the_browser(routed, settings):
    settings.CETATEA_REPLICA_PIN_SECONDS = 15
    db, response = run_middleware(settings, "POST")
    assert db == "default"
    cookie = response.cookies[PIN_COOKIE]
    assert cookie["max-age"] == 15 and cookie["httponly"]
    # The next pages of that browser read their own write from the primary...
    db, _ = run_middleware(settings, "GET", {PIN_COOKIE: cookie.value})
    assert db == "default"
    # ...until the pin expires; a forged or broken cookie only means the primary.
    db, _ = run_middleware(settings, "GET", {PIN_COOKIE: str(int(time.time()) - 1)})
    assert db == "replica"
    db, _ = run_middleware(settings, "GET", {PIN_COOKIE: "soon"})
    assert db == "replica"


@pytest.mark.django_db(transaction=True)  # no test transaction: it keeps reads on the primary
def test_an_unreachable_replica_is_left_alone_and_reads_go_to_the_primary(
    settings, monkeypatch, caplog
):
    """The replica's machine is down: pages keep working from the primary, and the
    process does not try the replica again on every request."""
    config = {**connections["default"].settings_dict, "CONN_MAX_AGE": 0}
    if config["ENGINE"].endswith("sqlite3"):
        config["NAME"] = "/nonexistent/cetatea/replica.sqlite3"
    else:
        config.update(HOST="127.0.0.1", PORT="1")  # nothing listens there
    wrapper = load_backend(config["ENGINE"]).DatabaseWrapper(config, "replica")
    connections._connections.replica = wrapper
    settings.DATABASE_ROUTERS = [ROUTER]
    monkeypatch.setattr(dbrouter, "replica_configured", lambda: True)
    monkeypatch.setattr(dbrouter, "_replica_down_until", 0.0)
    attempts = []
    real_connect = wrapper.ensure_connection
    monkeypatch.setattr(wrapper, "ensure_connection", lambda: attempts.append(1) or real_connect())
    try:
        db, response = run_middleware(settings, "GET")
        assert db == "default" and response.status_code == 200
        assert "replica cannot be reached" in caplog.text
        db, _ = run_middleware(settings, "GET")
        assert db == "default"
        assert len(attempts) == 1  # the second request did not try again

        # Once the retry time has passed, the replica is tried again.
        monkeypatch.setattr(dbrouter, "_replica_down_until", time.monotonic() - 1)
        monkeypatch.setattr(wrapper, "ensure_connection", lambda: attempts.append(1))
        db, _ = run_middleware(settings, "GET")
        assert db == "replica" and len(attempts) == 2
    finally:
        wrapper.close()
        del connections._connections.replica


# --- a real streaming replica ---------------------------------------------------------------


def replica_listening() -> bool:
    try:
        socket.create_connection(("127.0.0.1", REPLICA_PORT), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def replica_alias(settings, monkeypatch, transactional_db):
    """A ``replica`` connection to the running replica, for the test database's name.

    Made here rather than named in the settings, so the test runner neither creates nor
    flushes a database on it (it is read-only: it could not).
    """
    config = {**connections["default"].settings_dict, "PORT": str(REPLICA_PORT)}
    config["CONN_MAX_AGE"] = 0
    wrapper = load_backend(config["ENGINE"]).DatabaseWrapper(config, "replica")
    connections._connections.replica = wrapper  # what connections["replica"] returns
    settings.DATABASE_ROUTERS = [ROUTER]
    monkeypatch.setattr(dbrouter, "replica_configured", lambda: True)
    try:
        yield wrapper
    finally:
        wrapper.close()
        del connections._connections.replica


def wait_for(check, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while not (found := check()):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return found


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.skipif(not replica_listening(), reason=f"no replica on 127.0.0.1:{REPLICA_PORT}")
def test_a_row_written_on_the_primary_is_read_through_the_replica(replica_alias):
    with replica_alias.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_setting('port')")
        assert cursor.fetchone() == (True, str(REPLICA_PORT))  # a real standby

    with replica_reads():
        # A write inside the replica scope still goes to the primary (the standby would
        # refuse it: "cannot execute INSERT in a read-only transaction")...
        Department.objects.create(code="replica", name_ro="Replică", name_en="Replica")
        # ...and the reads after it in the same request too.
        assert Department.objects.filter(code="replica").db == "default"
    with replica_reads():  # the next request of another browser
        query = Department.objects.filter(code="replica")
        assert query.db == "replica"
        assert wait_for(query.exists), "the row did not reach the replica"
        assert query.get().name_en == "Replica"
    with replica_alias.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM catalog_department WHERE code = 'replica'")
        assert cursor.fetchone() == (1,)
