from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "cetatea.core"
    label = "core"

    def ready(self) -> None:
        from cetatea.core import checks  # noqa: F401  (registers system checks)
        from cetatea.core.roles import sync_roles

        # After every app's permissions exist: the last app in INSTALLED_APPS.
        post_migrate.connect(sync_roles, dispatch_uid="cetatea.sync_roles")
