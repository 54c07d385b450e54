"""The index behind the message search (``selectors.message_search``).

The trigram index on ``chat_message.body_key``
(PostgreSQL ``pg_trgm`` GIN, SQLite FTS5 kept by triggers): see ``cetatea/core/trigram.py``.
``after_migrate`` runs after every ``migrate`` (``apps.py``) because SQLite drops
triggers when a migration rebuilds the table.
"""

from __future__ import annotations

from cetatea.core.trigram import TrigramIndex

INDEX = TrigramIndex(
    app_label="chat",
    migration="0001_initial",
    table="chat_message",
    column="body_key",
    pg_index="chat_message_body_trgm_idx",
)
FTS_TABLE = INDEX.fts_table
PG_INDEX = INDEX.pg_index
MIGRATION = INDEX.migration
ensure_body_index = INDEX.ensure
drop_body_index = INDEX.drop
after_migrate = INDEX.after_migrate
