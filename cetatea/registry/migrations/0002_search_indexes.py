"""Indexes of the clerks' search (docs/registry.md, "Deadline watch and search").

* ``sender_key`` gets the "C" collation on PostgreSQL (``SearchKeyField``): a sender
  prefix is a plain B-tree range whatever the database's locale;
* (status, registered_at) and (department, registered_at): entries of a status, of a
  department, newest first without sorting them; the deadline watch's two indexes become
  partial (open entries only, by term), replacing (status, due_date) and
  (department, status, due_date);
* the summary words: ``pg_trgm`` and a GIN trigram index on PostgreSQL, an FTS5 trigram
  table kept by triggers on SQLite (``cetatea/registry/search.py``).
"""

from django.db import migrations, models

import cetatea.core.fields


def create_summary_index(apps, schema_editor):
    from cetatea.registry.search import ensure_summary_index

    ensure_summary_index(schema_editor.connection)


def drop_summary_index(apps, schema_editor):
    from cetatea.registry.search import drop_summary_index

    drop_summary_index(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="entry",
            name="sender_key",
            field=cetatea.core.fields.SearchKeyField(blank=True, editable=False, max_length=200),
        ),
        migrations.RemoveIndex(model_name="entry", name="entry_status_due_idx"),
        migrations.RemoveIndex(model_name="entry", name="entry_dept_status_due_idx"),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(
                fields=["status", "registered_at"], name="entry_status_registered_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(
                fields=["department", "registered_at"], name="entry_dept_registered_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["status", "due_date"],
                name="entry_open_due_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["department", "due_date"],
                name="entry_open_dept_due_idx",
            ),
        ),
        migrations.RunPython(create_summary_index, drop_summary_index),
    ]
