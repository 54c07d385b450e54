"""Database triggers that refuse UPDATE and DELETE on the audit log (docs/privacy.md).

The ORM already refuses (``AuditLog.save``/``delete``, ``AuditQuerySet.update``); the
triggers also stop a raw query, a bulk delete through a relation, a ``dbshell`` session
or a future bug. Nothing in Cetatea deletes audit rows: there is no retention term for
the audit log.

SQLite runs Django's ``flush`` (the test runner's teardown of transactional tests) as
``DELETE FROM`` each table, which the trigger would refuse. Its DELETE trigger therefore
asks a function of the connection, ``cetatea_audit_delete_allowed()``, registered on
every Django connection; it answers no unless the test suite said otherwise
(``allow_delete_for_tests``). A connection without the function (the ``sqlite3`` shell)
fails the DELETE with "no such function": refused either way. PostgreSQL's flush is a
``TRUNCATE``, which row triggers do not see, so its trigger refuses every DELETE.

SQLite drops a table's triggers when a migration rebuilds the table; ``install`` runs
again after every ``migrate`` (post_migrate) and creates any trigger that is missing.
"""

from __future__ import annotations

TABLE = "core_auditlog"
MESSAGE = "audit log rows cannot be changed or deleted"

# Set by the test suite's root conftest only (SQLite flush; see the module docstring).
allow_delete_for_tests = False

SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE}
    WHEN NOT cetatea_audit_delete_allowed()
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
]
POSTGRESQL_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION {TABLE}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
    END $$""",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_change ON {TABLE}",
    f"""CREATE TRIGGER {TABLE}_no_change BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_refuse()""",
]
POSTGRESQL_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_change ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_refuse()",
]


def _delete_allowed() -> int:
    return 1 if allow_delete_for_tests else 0


def register_sqlite_function(sender=None, connection=None, **_kwargs) -> None:
    """``connection_created`` receiver: the function the SQLite DELETE trigger asks."""
    if connection is not None and connection.vendor == "sqlite":
        connection.connection.create_function(
            "cetatea_audit_delete_allowed", 0, _delete_allowed, deterministic=False
        )


def _statements(vendor: str, *, remove: bool = False) -> list[str]:
    if vendor == "sqlite":
        return SQLITE_REMOVE if remove else SQLITE_INSTALL
    if vendor == "postgresql":
        return POSTGRESQL_REMOVE if remove else POSTGRESQL_INSTALL
    return []  # another database: the ORM's refusal only (docs/privacy.md)


def install(connection) -> None:
    """Create the triggers (idempotent; a no-op before the audit table exists)."""
    if TABLE not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor):
            cursor.execute(sql)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, remove=True):
            cursor.execute(sql)


MIGRATION = ("core", "0005_audit_viewer_indexes_and_triggers")


def reinstall_after_migrate(sender=None, using="default", **_kwargs) -> None:
    """``post_migrate`` receiver (once, for the core app): the triggers again, if the
    migration that creates them is applied (a rollback past it stays rolled back)."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    if sender is not None and getattr(sender, "label", None) != "core":
        return
    connection = connections[using]
    if MIGRATION in MigrationRecorder(connection).applied_migrations():
        install(connection)
