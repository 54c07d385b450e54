"""The index behind "words of the summary" in the clerks' search (``selectors.entry_search``).

A word is searched anywhere in the folded summary (``summary_key LIKE '%word%'``), which
no B-tree can serve. Each database gets the trigram index it has, with no new service:

* PostgreSQL: the ``pg_trgm`` extension and a GIN index on ``summary_key``
  (``entry_summary_trgm_idx``); the planner uses it for rare words and walks the
  registration-date index for common ones.
* SQLite: an FTS5 table with the trigram tokenizer (SQLite 3.34+) over the same column,
  external content (the text is not stored twice) and ``detail=none`` (no positions: a
  ``LIKE`` on the FTS table reads the candidates' text to confirm them), kept in step with
  ``registry_entry`` by three triggers, so every way of writing an entry (the services,
  ``seed_registry``'s bulk inserts, the admin) keeps it right.

SQLite drops a table's triggers when a migration rebuilds the table (``ALTER`` on SQLite is
copy, drop, rename), so ``ensure_summary_index`` also runs after every ``migrate``
(``apps.py``): it recreates whatever is missing and refills the FTS table when it was.
"""

from __future__ import annotations

FTS_TABLE = "registry_entry_fts"
PG_INDEX = "entry_summary_trgm_idx"
MIGRATION = "0002_search_indexes"
_TRIGGERS = {
    "registry_entry_fts_ai": (
        "CREATE TRIGGER registry_entry_fts_ai AFTER INSERT ON registry_entry BEGIN "
        "INSERT INTO registry_entry_fts(rowid, summary_key) VALUES (new.id, new.summary_key); END"
    ),
    "registry_entry_fts_ad": (
        "CREATE TRIGGER registry_entry_fts_ad AFTER DELETE ON registry_entry BEGIN "
        "INSERT INTO registry_entry_fts(registry_entry_fts, rowid, summary_key) "
        "VALUES ('delete', old.id, old.summary_key); END"
    ),
    "registry_entry_fts_au": (
        "CREATE TRIGGER registry_entry_fts_au AFTER UPDATE OF summary_key ON registry_entry "
        "BEGIN INSERT INTO registry_entry_fts(registry_entry_fts, rowid, summary_key) "
        "VALUES ('delete', old.id, old.summary_key); "
        "INSERT INTO registry_entry_fts(rowid, summary_key) VALUES (new.id, new.summary_key); END"
    ),
}


def ensure_summary_index(connection) -> bool:
    """Create the summary index where it is missing; True if anything was created.

    Idempotent and cheap when everything is there (one catalogue query)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [PG_INDEX])
            if cursor.fetchone():
                return False
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON registry_entry "
                "USING gin (summary_key gin_trgm_ops)"
            )
            return True
        if connection.vendor != "sqlite":
            return False  # other databases: the search scans (documented)
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE name = %s OR (type = 'trigger' AND name IN "
            "(%s, %s, %s))",
            [FTS_TABLE, *_TRIGGERS],
        )
        present = {row[0] for row in cursor.fetchall()}
        if present >= {FTS_TABLE, *_TRIGGERS}:
            return False
        if FTS_TABLE not in present:
            cursor.execute(
                f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(summary_key, "
                "content='registry_entry', content_rowid='id', tokenize='trigram', "
                "detail='none')"
            )
        for name, sql in _TRIGGERS.items():
            if name not in present:
                cursor.execute(sql)
        # Rows written while the index or a trigger was missing: index everything again.
        cursor.execute("INSERT INTO registry_entry_fts(registry_entry_fts) VALUES ('rebuild')")
        return True


def drop_summary_index(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
        elif connection.vendor == "sqlite":
            for name in _TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def after_migrate(sender, using="default", **kwargs) -> None:
    """``post_migrate``: put back what a table rebuild removed (SQLite), once the migration
    that creates the index is applied (not after migrating back before it)."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    if not MigrationRecorder(connection).has_table():
        return
    if ("registry", MIGRATION) not in MigrationRecorder(connection).applied_migrations():
        return
    ensure_summary_index(connection)
