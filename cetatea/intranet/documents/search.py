"""The full-text index behind the document search (``selectors.document_search``).

Each document has one ``DocumentText`` row: its title and the text of its current
version, folded (``core.text.fold``: lower-case ASCII, so "ședință", "şedinţă" and
"sedinta" are one word). Words are matched by prefix ("contract" finds "contractul"):

* PostgreSQL: the ``search`` column is a ``tsvector`` of ``content_key`` with the
  ``simple`` configuration (no stemming: the text is already folded, and Romanian has no
  built-in stemmer), kept by the built-in ``tsvector_update_trigger``, and a GIN index
  on it; a query is ``to_tsquery('simple', 'word:* & other:*')``.
* SQLite: an FTS5 table (``unicode61`` tokenizer, ``detail=none``: no positions, which
  a prefix AND does not need) over the same column, external content (the text is not
  stored twice), kept by three triggers, so every way of writing the row (the services,
  the benchmark's bulk inserts, the admin) keeps it right. Its rowid is the document id.

SQLite drops a table's triggers when a migration rebuilds the table, so
``ensure_text_index`` also runs after every ``migrate`` (``apps.py``): it recreates
whatever is missing and refills the FTS table when it was.
"""

from __future__ import annotations

# The SQL below is built from the constants of this module only.
# ruff: noqa: S608

TABLE = "documents_documenttext"
FTS_TABLE = "documents_text_fts"
PG_INDEX = "doctext_search_gin"
PG_TRIGGER = "documents_documenttext_tsv"
MIGRATION = "0001_initial"
_TRIGGERS = {
    "documents_text_fts_ai": (
        f"CREATE TRIGGER documents_text_fts_ai AFTER INSERT ON {TABLE} BEGIN "
        f"INSERT INTO {FTS_TABLE}(rowid, content_key) VALUES (new.document_id, new.content_key); "
        "END"
    ),
    "documents_text_fts_ad": (
        f"CREATE TRIGGER documents_text_fts_ad AFTER DELETE ON {TABLE} BEGIN "
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content_key) "
        "VALUES ('delete', old.document_id, old.content_key); END"
    ),
    "documents_text_fts_au": (
        f"CREATE TRIGGER documents_text_fts_au AFTER UPDATE OF content_key ON {TABLE} BEGIN "
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content_key) "
        "VALUES ('delete', old.document_id, old.content_key); "
        f"INSERT INTO {FTS_TABLE}(rowid, content_key) VALUES (new.document_id, new.content_key); "
        "END"
    ),
}


def ensure_text_index(connection) -> bool:
    """Create the text index where it is missing; True if anything was created.

    Idempotent and cheap when everything is there (one catalogue query)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT (SELECT count(*) FROM pg_indexes WHERE indexname = %s) + "
                "(SELECT count(*) FROM pg_trigger WHERE tgname = %s)",
                [PG_INDEX, PG_TRIGGER],
            )
            if cursor.fetchone()[0] == 2:
                return False
            cursor.execute(f"DROP TRIGGER IF EXISTS {PG_TRIGGER} ON {TABLE}")
            cursor.execute(
                f"CREATE TRIGGER {PG_TRIGGER} BEFORE INSERT OR UPDATE OF content_key ON {TABLE} "
                "FOR EACH ROW EXECUTE FUNCTION "
                "tsvector_update_trigger(search, 'pg_catalog.simple', content_key)"
            )
            # Rows written while the trigger was missing.
            cursor.execute(
                f"UPDATE {TABLE} SET search = to_tsvector('pg_catalog.simple', content_key) "
                "WHERE search IS NULL"
            )
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON {TABLE} USING gin (search)")
            return True
        if connection.vendor != "sqlite":
            return False  # other databases: no text search (documented)
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
                f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(content_key, content='{TABLE}', "
                "content_rowid='document_id', tokenize='unicode61', detail='none')"
            )
        for name, sql in _TRIGGERS.items():
            if name not in present:
                cursor.execute(sql)
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
        return True


def drop_text_index(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {PG_TRIGGER} ON {TABLE}")
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
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return
    if ("documents", MIGRATION) not in recorder.applied_migrations():
        return
    ensure_text_index(connection)
