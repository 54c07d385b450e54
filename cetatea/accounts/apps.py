from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "cetatea.accounts"
    verbose_name = _("Staff account security")

    def ready(self) -> None:
        from cetatea.accounts import receivers

        receivers.connect()
