"""Choices of the staff console: queue sorts, due filters, bulk actions."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sort(models.TextChoices):
    DUE = "due", _("Due time (soonest first)")
    REGISTERED = "registered", _("Registered (newest first)")
    PRIORITY = "priority", _("Priority (highest first)")


class DueFilter(models.TextChoices):
    SOON = "soon", _("Due in the next 24 hours")
    OVERDUE = "overdue", _("Overdue")


class AssignedFilter(models.TextChoices):
    ME = "me", _("Assigned to me")
    NOBODY = "none", _("Unassigned")


class BulkAction(models.TextChoices):
    ASSIGN = "assign", _("Assign to a person")
    TEAM = "team", _("Give to a team")
    STATUS = "status", _("Change status")
    MERGE = "merge", _("Merge into one case")
