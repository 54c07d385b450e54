from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntranetConfig(AppConfig):
    name = "cetatea.intranet"
    label = "intranet"
    verbose_name = _("Intranet")

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        from cetatea.intranet.services import directory_user_saved

        # The staff directory's folded name keys follow the account's name (a derived
        # search column, like a cache: no business rule runs here). Bulk loads that skip
        # signals are caught up by `manage.py intranet_directory_sync`.
        post_save.connect(
            directory_user_saved, sender=get_user_model(), dispatch_uid="intranet-directory"
        )
