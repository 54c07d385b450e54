"""Escalation contacts (who heads a department) and the record of escalations sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cetatea.intake.choices import EscalationLevel, EscalationReason


class EscalationContact(models.Model):
    """A staff member who hears first when a case of the department is at risk
    (the department head or a deputy). Kept here because the catalogue's
    StaffProfile has no "head" flag."""

    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="escalation_contacts",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta:
        verbose_name = _("escalation contact")
        verbose_name_plural = _("escalation contacts")
        constraints = [
            models.UniqueConstraint(fields=["department", "user"], name="escalationcontact_unique")
        ]

    def __str__(self) -> str:
        return f"{self.department} → {self.user}"


class Escalation(models.Model):
    """One escalation of one case at one level: recorded once, so the periodic command
    can run as often as it likes without sending anything twice."""

    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="escalations",
    )
    level = models.PositiveSmallIntegerField(_("level"), choices=EscalationLevel.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=EscalationReason.choices)
    due_at = models.DateTimeField(_("due time when escalated"))
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "level"], name="escalation_case_level")
        ]
        indexes = [models.Index(fields=["-created_at", "-id"], name="escalation_recent_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} L{self.level}"
