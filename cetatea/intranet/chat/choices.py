"""Kinds of channels and e-mail settings of the intranet's messages."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    # The staff of one department read it, plus the people invited into it.
    DEPARTMENT = "department", _("Department channel")
    # Every staff member may read it and join it.
    PUBLIC = "public", _("Public topic channel")
    # Members only (invited by a member).
    PRIVATE = "private", _("Private channel")
    # Direct messages between two or a few people: members only, fixed membership.
    DIRECT = "direct", _("Direct messages")


class EmailMode(models.TextChoices):
    OFF = "off", _("Never")
    MENTIONS = "mentions", _("Mentions and direct messages")
    ALL = "all", _("Everything I missed")


# How long a message waits unread before the digest mails it (minutes).
DELAY_CHOICES = [
    (5, _("5 minutes")),
    (15, _("15 minutes")),
    (60, _("1 hour")),
    (240, _("4 hours")),
]
