from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "cetatea.intranet.chat"
    label = "chat"
    verbose_name = _("Messages")

    def ready(self):
        from django.db.models.signals import post_migrate

        from cetatea.intranet.chat.search import after_migrate

        # SQLite loses a table's triggers when a migration rebuilds it: put them back.
        post_migrate.connect(after_migrate, sender=self, dispatch_uid="chat-body-index")
