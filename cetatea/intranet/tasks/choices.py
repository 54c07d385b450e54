"""Task statuses (the kanban columns), priorities and reminder kinds."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    """The kanban columns, in order. Fixed for every board (see docs/intranet-tasks.md)."""

    TODO = "todo", _("To do")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


OPEN_STATUSES = frozenset({Status.TODO, Status.IN_PROGRESS})


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class ReminderKind(models.TextChoices):
    DAY = "24h", _("Due within 24 hours")
    HOUR = "1h", _("Due within an hour")
    OVERDUE = "overdue", _("Overdue")


class ListSort(models.TextChoices):
    DUE = "due", _("Due first")
    DUE_LATEST = "-due", _("Due last")
