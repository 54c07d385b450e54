"""Statuses and kinds of the schedules app, with the moves each status allows."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LeaveKind(models.TextChoices):
    ANNUAL = "annual", _("Annual leave")
    MEDICAL = "medical", _("Medical leave")
    OTHER = "other", _("Other leave")


class LeaveStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    CANCELLED = "cancelled", _("Cancelled")


LEAVE_MOVES: dict[str, set[str]] = {
    LeaveStatus.PENDING: {LeaveStatus.APPROVED, LeaveStatus.REFUSED, LeaveStatus.CANCELLED},
    LeaveStatus.APPROVED: {LeaveStatus.CANCELLED},
    LeaveStatus.REFUSED: set(),
    LeaveStatus.CANCELLED: set(),
}


class SwapStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted, waiting for a planner")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# An offered or accepted swap is "open": a shift has at most one open swap.
OPEN_SWAP_STATUSES = (SwapStatus.OFFERED, SwapStatus.ACCEPTED)

SWAP_MOVES: dict[str, set[str]] = {
    SwapStatus.OFFERED: {SwapStatus.ACCEPTED, SwapStatus.APPROVED, SwapStatus.WITHDRAWN},
    SwapStatus.ACCEPTED: {SwapStatus.APPROVED, SwapStatus.REFUSED, SwapStatus.WITHDRAWN},
    SwapStatus.APPROVED: set(),
    SwapStatus.REFUSED: set(),
    SwapStatus.WITHDRAWN: set(),
}

# Weekdays as Python numbers them (Monday 0); patterns and rules store them as "0123456".
WEEKDAY_CHOICES = [
    ("0", _("Monday")),
    ("1", _("Tuesday")),
    ("2", _("Wednesday")),
    ("3", _("Thursday")),
    ("4", _("Friday")),
    ("5", _("Saturday")),
    ("6", _("Sunday")),
]
