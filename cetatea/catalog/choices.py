from django.db import models
from django.utils.translation import gettext_lazy as _


class Regime(models.TextChoices):
    """Which legal clock applies when an identified person files in this category."""

    TICKET = "ticket", _("Operational ticket (category target time)")
    PETITION = "petition", _("Petition (OG 27/2002, 30 days)")
    INFO_544 = "info_544", _("Public-information request (Law 544/2001, 10 days)")
