"""What a notification tells, how it travels and where it stands."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")
    STATUS = "status", _("Status change")
    REPLY = "reply", _("Public reply")


class NotifyChannel(models.TextChoices):
    # The same values as cases.Channel, so the Interaction of a message uses them as is.
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class NotifyStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Language(models.TextChoices):
    ROMANIAN = "ro", _("Romanian")
    ENGLISH = "en", _("English")
