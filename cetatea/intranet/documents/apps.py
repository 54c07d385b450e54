from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "cetatea.intranet.documents"
    label = "documents"
    verbose_name = _("Documents")

    def ready(self):
        from django.db.models.signals import post_migrate

        from cetatea.intranet.documents.search import after_migrate

        # SQLite loses a table's triggers when a migration rebuilds it: put them back.
        post_migrate.connect(after_migrate, sender=self, dispatch_uid="documents-text-index")
