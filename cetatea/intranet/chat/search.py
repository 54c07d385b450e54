"""The index behind the message search (``selectors.message_search``).

The registry's approach (``cetatea/registry/search.py``): a word is searched anywhere in
the folded body (``body_key LIKE '%word%'``), served by the trigram index each database has:

* PostgreSQL: ``pg_trgm`` and a GIN index on ``chat_message.body_key``;
* SQLite: an FTS5 table with the trigram tokenizer over the same column (external
  content, ``detail=none``), kept in step by three triggers, so every way of writing a
  message (the services, the benchmark's bulk insert, the admin) keeps it right.

SQLite drops a table's triggers when a migration rebuilds the table, so
``ensure_body_index`` also runs after every ``migrate`` (``apps.py``).
"""

from __future__ import annotations

FTS_TABLE = "chat_message_fts"
PG_INDEX = "chat_message_body_trgm_idx"
MIGRATION = "0001_initial"
_TRIGGERS = {
    "chat_message_fts_ai": (
        "CREATE TRIGGER chat_message_fts_ai AFTER INSERT ON chat_message BEGIN "
        "INSERT INTO chat_message_fts(rowid, body_key) VALUES (new.id, new.body_key); END"
    ),
    "chat_message_fts_ad": (
        "CREATE TRIGGER chat_message_fts_ad AFTER DELETE ON chat_message BEGIN "
        "INSERT INTO chat_message_fts(chat_message_fts, rowid, body_key) "
        "VALUES ('delete', old.id, old.body_key); END"
    ),
    "chat_message_fts_au": (
        "CREATE TRIGGER chat_message_fts_au AFTER UPDATE OF body_key ON chat_message "
        "BEGIN INSERT INTO chat_message_fts(chat_message_fts, rowid, body_key) "
        "VALUES ('delete', old.id, old.body_key); "
        "INSERT INTO chat_message_fts(rowid, body_key) VALUES (new.id, new.body_key); END"
    ),
}


def ensure_body_index(connection, *, rebuild: bool = True) -> bool:
    """Create the body index where it is missing; True if anything was created.

    Idempotent and cheap when everything is there (one catalogue query). ``rebuild``
    false skips refilling the SQLite table (a bulk load does it once at the end)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [PG_INDEX])
            if cursor.fetchone():
                return False
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON chat_message "
                "USING gin (body_key gin_trgm_ops)"
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
                f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(body_key, "
                "content='chat_message', content_rowid='id', tokenize='trigram', "
                "detail='none')"
            )
        for name, sql in _TRIGGERS.items():
            if name not in present:
                cursor.execute(sql)
        if rebuild:
            # Rows written while the index or a trigger was missing: index everything again.
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")  # noqa: S608
        return True


def drop_body_index(connection, *, keep_table: bool = False) -> None:
    """Remove the index (``keep_table``: SQLite keeps the FTS table, drops the triggers,
    for a bulk load that rebuilds it once at the end)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
        elif connection.vendor == "sqlite":
            for name in _TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            if not keep_table:
                cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def after_migrate(sender, using="default", **kwargs) -> None:
    """``post_migrate``: put back what a table rebuild removed (SQLite)."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    if not MigrationRecorder(connection).has_table():
        return
    if ("chat", MIGRATION) not in MigrationRecorder(connection).applied_migrations():
        return
    ensure_body_index(connection)
