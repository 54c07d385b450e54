"""The index behind "words of the summary" in the clerks' search (``selectors.entry_search``).

The trigram index on ``registry_entry.summary_key``
(PostgreSQL ``pg_trgm`` GIN, SQLite FTS5 kept by triggers): see ``cetatea/core/trigram.py``.
``after_migrate`` runs after every ``migrate`` (``apps.py``) because SQLite drops
triggers when a migration rebuilds the table.
"""

from __future__ import annotations

from cetatea.core.trigram import TrigramIndex

INDEX = TrigramIndex(
    app_label="registry",
    migration="0002_search_indexes",
    table="registry_entry",
    column="summary_key",
    pg_index="entry_summary_trgm_idx",
)
FTS_TABLE = INDEX.fts_table
PG_INDEX = INDEX.pg_index
MIGRATION = INDEX.migration
ensure_summary_index = INDEX.ensure
drop_summary_index = INDEX.drop
after_migrate = INDEX.after_migrate
