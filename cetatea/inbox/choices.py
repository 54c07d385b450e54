"""What became of an inbound e-mail."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    CASE_CREATED = "created", _("Case created")
    ATTACHED = "attached", _("Attached to a case")
    AUTO_REPLY = "auto_reply", _("Ignored: automatic reply")
    BOUNCE = "bounce", _("Delivery failure (bounce)")
    REJECTED = "rejected", _("Rejected")


class Source(models.TextChoices):
    IMAP = "imap", _("Fetched over IMAP")
    PIPE = "pipe", _("Piped by the mail server")


class AfterFetch(models.TextChoices):
    """What fetch_mail does with a message once it is stored."""

    SEEN = "seen", _("Mark it as read")
    MOVE = "move", _("Move it to another folder")
    DELETE = "delete", _("Delete it")
