from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "cetatea.core"
    label = "core"

    def ready(self) -> None:
        from cetatea.core import (
            audit_guard,
            checks,  # noqa: F401  (registers system checks)
        )
        from cetatea.core.roles import sync_roles

        # After every app's permissions exist: the last app in INSTALLED_APPS.
        post_migrate.connect(sync_roles, dispatch_uid="cetatea.sync_roles")
        # The audit log's triggers (core.audit_guard): SQLite's function, and the
        # triggers again after a migration that rebuilt the table.
        connection_created.connect(audit_guard.register_sqlite_function)
        post_migrate.connect(audit_guard.reinstall_after_migrate, dispatch_uid="cetatea.audit")
