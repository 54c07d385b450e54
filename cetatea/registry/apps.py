from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "cetatea.registry"
    label = "registry"
    verbose_name = _("Registry")

    def ready(self):
        from django.db.models.signals import post_migrate

        from cetatea.registry.search import after_migrate

        # SQLite loses a table's triggers when a migration rebuilds it: put them back.
        post_migrate.connect(after_migrate, sender=self, dispatch_uid="registry-summary-index")
