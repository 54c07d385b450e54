"""Choices of the registry (registratură): directions, channels, regimes, statuses."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    INCOMING = "in", _("Incoming")
    OUTGOING = "out", _("Outgoing")
    INTERNAL = "int", _("Internal")


class RegistryChannel(models.TextChoices):
    """How a document reached the registry (or left it)."""

    COUNTER = "counter", _("Counter")
    POST = "post", _("Post")
    EMAIL = "email", _("E-mail")
    WEB = "web", _("Web portal")
    FAX = "fax", _("Fax")
    COURIER = "courier", _("Courier")
    INTERNAL = "internal", _("Internal")


# The case channel a petition's case is filed with, by registry channel.
CASE_CHANNEL = {
    RegistryChannel.COUNTER: "counter",
    RegistryChannel.POST: "letter",
    RegistryChannel.EMAIL: "email",
    RegistryChannel.WEB: "web",
    RegistryChannel.FAX: "letter",
    RegistryChannel.COURIER: "letter",
    RegistryChannel.INTERNAL: "counter",
}


class DocRegime(models.TextChoices):
    """Which law sets a document type's terms."""

    PETITION = "petition", _("Petition (OG 27/2002)")
    INFO_544 = "info_544", _("Public-information request (Law 544/2001)")
    OTHER = "other", _("Other (configurable term)")


class SenderKind(models.TextChoices):
    """Who sent the document (the semi-annual petitions report counts them)."""

    PERSON = "person", _("Natural person")
    COMPANY = "company", _("Company or organisation")
    INSTITUTION = "institution", _("Public institution")
    ANONYMOUS = "anonymous", _("Anonymous")


class EntryStatus(models.TextChoices):
    OPEN = "open", _("Being solved")
    ANSWERED = "answered", _("Answered")
    FORWARDED = "forwarded", _("Forwarded to the competent authority")
    FILED = "filed", _("Filed without action")
    JOINED = "joined", _("Joined to another entry")
    REFUSED = "refused", _("Refused (reasoned)")
    DONE = "done", _("Registered")  # outgoing and internal documents: nothing to solve


OPEN_STATUSES = (EntryStatus.OPEN,)
# Statuses that end the term: the citizen had an answer, a notice or nothing is owed.
CLOSED_STATUSES = tuple(s for s in EntryStatus.values if s != EntryStatus.OPEN)


class EventKind(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    EXTENDED = "extended", _("Term extended")
    FORWARDED = "forwarded", _("Forwarded")
    ANSWERED = "answered", _("Answered")
    FILED = "filed", _("Filed")
    JOINED = "joined", _("Joined")
    REFUSED = "refused", _("Refused")
    NOTICE = "notice", _("Notice sent to the sender")
    NOTE = "note", _("Note")
    FILE = "file", _("File attached")
    ALERT = "alert", _("Deadline alert")
