from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Password accepted")
    BAD_PASSWORD = "bad_password", _("Wrong user name or password")
    LOCKED_OUT = "locked_out", _("Refused: locked out")
    TWO_FACTOR_FAILED = "2fa_failed", _("Wrong two-factor code")
    TWO_FACTOR_OK = "2fa_ok", _("Two-factor code accepted")
    LOGOUT = "logout", _("Signed out")
    IDLE_TIMEOUT = "idle_timeout", _("Signed out after inactivity")
