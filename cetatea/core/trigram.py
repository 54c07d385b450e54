"""A trigram index on one folded text column, for "a word anywhere in the text" searches.

A word is searched anywhere in the column (``column LIKE '%word%'``), which no B-tree can
serve. Each database gets the trigram index it has, with no new service:

* PostgreSQL: the ``pg_trgm`` extension and a GIN index on the column; the planner uses
  it for rare words and walks another index for common ones.
* SQLite: an FTS5 table with the trigram tokenizer (SQLite 3.34+) over the same column,
  external content (the text is not stored twice) and ``detail=none`` (no positions: a
  ``LIKE`` on the FTS table reads the candidates' text to confirm them), kept in step with
  the table by three triggers, so every way of writing a row (services, bulk inserts, the
  admin) keeps it right.

SQLite drops a table's triggers when a migration rebuilds the table (``ALTER`` on SQLite
is copy, drop, rename), so `TrigramIndex.after_migrate` runs after every ``migrate`` (the
app's ``ready`` connects it): it recreates whatever is missing and refills the FTS table
when it was. Used by the registry's summary search and the intranet's message search.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrigramIndex:
    app_label: str
    migration: str  # the app's migration that creates the index
    table: str
    column: str
    pg_index: str

    @property
    def fts_table(self) -> str:
        return f"{self.table}_fts"

    @property
    def triggers(self) -> dict[str, str]:
        # Identifiers from the code (never user input), so formatting them in is safe.
        t, c, fts = self.table, self.column, self.fts_table
        delete = f"INSERT INTO {fts}({fts}, rowid, {c}) VALUES ('delete', old.id, old.{c});"  # noqa: S608
        insert = f"INSERT INTO {fts}(rowid, {c}) VALUES (new.id, new.{c});"  # noqa: S608
        return {
            f"{fts}_ai": f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {t} BEGIN {insert} END",
            f"{fts}_ad": f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {t} BEGIN {delete} END",
            f"{fts}_au": (
                f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {c} ON {t} BEGIN {delete} {insert} END"
            ),
        }

    def ensure(self, connection, *, rebuild: bool = True) -> bool:
        """Create the index where it is missing; True if anything was created.

        Idempotent and cheap when everything is there (one catalogue query). ``rebuild``
        false skips refilling the SQLite table (a bulk load does it once at the end)."""
        triggers = self.triggers
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [self.pg_index])
                if cursor.fetchone():
                    return False
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {self.pg_index} ON {self.table} "
                    f"USING gin ({self.column} gin_trgm_ops)"
                )
                return True
            if connection.vendor != "sqlite":
                return False  # other databases: the search scans (documented)
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE name = %s OR (type = 'trigger' AND name IN "
                "(%s, %s, %s))",
                [self.fts_table, *triggers],
            )
            present = {row[0] for row in cursor.fetchall()}
            if present >= {self.fts_table, *triggers}:
                return False
            if self.fts_table not in present:
                cursor.execute(
                    f"CREATE VIRTUAL TABLE {self.fts_table} USING fts5({self.column}, "
                    f"content='{self.table}', content_rowid='id', tokenize='trigram', "
                    "detail='none')"
                )
            for name, sql in triggers.items():
                if name not in present:
                    cursor.execute(sql)
            if rebuild:
                # Rows written while the index or a trigger was missing: index them all again.
                fts = self.fts_table
                cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")  # noqa: S608
            return True

    def drop(self, connection, *, keep_table: bool = False) -> None:
        """Remove the index (``keep_table``: SQLite keeps the FTS table and drops only the
        triggers, for a bulk load that rebuilds it once at the end)."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP INDEX IF EXISTS {self.pg_index}")
            elif connection.vendor == "sqlite":
                for name in self.triggers:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
                if not keep_table:
                    cursor.execute(f"DROP TABLE IF EXISTS {self.fts_table}")

    def after_migrate(self, sender, using="default", **kwargs) -> None:
        """``post_migrate``: put back what a table rebuild removed (SQLite), once the
        migration that creates the index is applied (not after migrating back before it)."""
        from django.db import connections
        from django.db.migrations.recorder import MigrationRecorder

        connection = connections[using]
        recorder = MigrationRecorder(connection)
        if not recorder.has_table():
            return
        if (self.app_label, self.migration) not in recorder.applied_migrations():
            return
        self.ensure(connection)
