"""Channels, honest states and their allowed transitions, event kinds."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    MAP = "map", _("City map")
    OPEN311 = "open311", _("Mobile app (Open311)")
    PHONE = "phone", _("Phone (operator)")
    ROBOT = "robot", _("Phone robot")
    EMAIL = "email", _("E-mail")
    COUNTER = "counter", _("Counter")
    LETTER = "letter", _("Letter")
    SMS = "sms", _("SMS")


class Status(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    PLANNED = "planned", _("Planned")
    ON_HOLD = "on_hold", _("Waiting for the citizen")
    REOPENED = "reopened", _("Reopened")
    FIXED = "fixed", _("Fixed")
    NOT_RESPONSIBLE = "not_responsible", _("Not the city's responsibility")
    DUPLICATE = "duplicate", _("Duplicate")
    UNABLE_TO_FIX = "unable_to_fix", _("Unable to fix")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATUSES = frozenset(
    {
        Status.NEW,
        Status.ACKNOWLEDGED,
        Status.IN_PROGRESS,
        Status.PLANNED,
        Status.ON_HOLD,
        Status.REOPENED,
    }
)
CLOSED_STATUSES = frozenset(set(Status) - OPEN_STATUSES)
# Waiting for the citizen stops the clock (the due time moves by the time spent there).
PAUSED_STATUSES = frozenset({Status.ON_HOLD})

_WORKING = {Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.PLANNED, Status.ON_HOLD}
# Which moves are allowed; the service refuses the rest. Closed cases only reopen.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset(_WORKING | CLOSED_STATUSES),
    Status.ACKNOWLEDGED: frozenset((_WORKING - {Status.ACKNOWLEDGED}) | CLOSED_STATUSES),
    Status.IN_PROGRESS: frozenset((_WORKING - {Status.IN_PROGRESS}) | CLOSED_STATUSES),
    Status.PLANNED: frozenset((_WORKING - {Status.PLANNED}) | CLOSED_STATUSES),
    Status.ON_HOLD: frozenset((_WORKING - {Status.ON_HOLD}) | CLOSED_STATUSES),
    Status.REOPENED: frozenset(_WORKING | CLOSED_STATUSES),
    **{closed: frozenset({Status.REOPENED}) for closed in CLOSED_STATUSES},
}

# Open311 knows only open/closed; FixMyStreet's extended statuses name the rest.
OPEN311_STATUS = {s: ("open" if s in OPEN_STATUSES else "closed") for s in Status}
FIXMYSTREET_STATUS = {
    Status.NEW: "open",
    Status.ACKNOWLEDGED: "investigating",
    Status.IN_PROGRESS: "in_progress",
    Status.PLANNED: "action_scheduled",
    Status.ON_HOLD: "investigating",
    Status.REOPENED: "open",
    Status.FIXED: "fixed",
    Status.NOT_RESPONSIBLE: "not_councils_responsibility",
    Status.DUPLICATE: "duplicate",
    Status.UNABLE_TO_FIX: "no_further_action",
    Status.WITHDRAWN: "closed",
}


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class EventKind(models.TextChoices):
    CREATED = "created", _("Case opened")
    STATUS = "status", _("Status changed")
    PUBLIC_REPLY = "public_reply", _("Reply to the citizen")
    INTERNAL_NOTE = "internal_note", _("Internal note")
    ASSIGNMENT = "assignment", _("Assigned")
    MERGE = "merge", _("Merged")
    DUE_CHANGE = "due_change", _("Due time changed")
    REQUESTER_CHANGE = "requester_change", _("Requester changed")
    FORWARDED = "forwarded", _("Forwarded to another department")


class Direction(models.TextChoices):
    INBOUND = "in", _("From the citizen")
    OUTBOUND = "out", _("To the citizen")


class Handler(models.TextChoices):
    STAFF = "staff", _("Staff")
    ROBOT = "robot", _("Phone robot")
    SELF_SERVICE = "self", _("Self-service")
    SYSTEM = "system", _("System")


class Publication(models.TextChoices):
    """Whether the public sees a case on the map and its page."""

    PRIVATE = "private", _("Not public")
    PENDING = "pending", _("Waiting for e-mail confirmation")
    PUBLIC = "public", _("Public")
    HIDDEN = "hidden", _("Hidden by a moderator")


class PhotoStatus(models.TextChoices):
    PROCESSING = "processing", _("Being processed")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Could not be processed")
