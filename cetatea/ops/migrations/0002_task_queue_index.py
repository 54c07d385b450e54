"""Indexes of the background tasks still waiting or running, for /metrics and /healthz.

django-tasks-db indexes the ready tasks in its workers' order only; counting the running
ones, or the waiting ones per queue, or finding the one that has waited longest would
read the whole table, which keeps every finished task. These partial indexes hold only
the unfinished ones. (One index per status: SQLite uses a partial index only when the
query repeats its condition, and ``status = %s`` matches ``status = 'READY'``.)
"""

from django.db import migrations

TABLE = "django_tasks_database_dbtaskresult"


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0001_backup_runs"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                f"CREATE INDEX IF NOT EXISTS ops_task_ready_idx ON {TABLE} "
                "(run_after, enqueued_at, queue_name) WHERE status = 'READY'"
            ),
            reverse_sql="DROP INDEX IF EXISTS ops_task_ready_idx",
        ),
        migrations.RunSQL(
            sql=(
                f"CREATE INDEX IF NOT EXISTS ops_task_running_idx ON {TABLE} "
                "(queue_name) WHERE status = 'RUNNING'"
            ),
            reverse_sql="DROP INDEX IF EXISTS ops_task_running_idx",
        ),
    ]
