"""Escalation levels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EscalationLevel(models.IntegerChoices):
    """Who hears about a case at risk: first the department head, then the managers."""

    DEPARTMENT_HEAD = 1, _("Department head")
    MANAGER = 2, _("Manager")


class EscalationReason(models.TextChoices):
    DUE_SOON = "due_soon", _("About to breach its due time")
    BREACHED = "breached", _("Past its due time")
