"""Shared records: the audit log, gap-free counters and institution closure days."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):  # audit rows are evidence: never changed
        raise PermissionError("audit log rows cannot be changed")


class AuditLog(models.Model):
    """Who did what to whose personal data, when. Append-only: the ORM refuses changes
    here, and database triggers (migration 0005) refuse UPDATE and DELETE as well."""

    class Action(models.TextChoices):
        REVEAL_NATIONAL_ID = "reveal_national_id", _("National id revealed")
        VIEW_PERSON = "view_person", _("Person record opened")
        MERGE_PERSONS = "merge_persons", _("Persons merged")
        EXPORT = "export", _("Personal data exported")
        MODERATION = "moderation", _("Public content moderated")
        VIEW_BALANCE = "view_balance", _("Tax balance viewed")
        ROBOT_PIN_ISSUED = "robot_pin_issued", _("Phone robot PIN issued or reset")
        ROBOT_PIN_CHANGED = "robot_pin_changed", _("Phone robot PIN changed by the citizen")
        ROBOT_UNLOCKED = "robot_unlocked", _("Phone robot unlocked")
        VIEW_AUDIT = "view_audit", _("Audit log of a person viewed")
        ERASE = "erase", _("Personal data erased")
        ACCOUNT_2FA_RESET = "account_2fa_reset", _("Two-factor authentication of an account reset")
        ACCOUNT_UNLOCKED = "account_unlocked", _("Locked-out account unlocked")

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    # Which person's data; kept as a plain id so that erasing a person keeps the trail.
    person_id = models.BigIntegerField(_("person"), null=True, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["person_id", "-created_at"], name="audit_person_idx"),
            # The audit log viewer's filters (privacy.selectors.audit_search).
            models.Index(fields=["actor", "-created_at"], name="audit_actor_idx"),
            models.Index(fields=["action", "-created_at"], name="audit_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("audit log rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit log rows cannot be deleted")


class Counter(models.Model):
    """A named, yearly, gap-free sequence (case references, registry numbers).

    Incremented with an UPDATE inside the caller's transaction: the row lock serialises
    concurrent writers, and a rolled-back transaction gives its number back.
    """

    name = models.CharField(max_length=40)
    year = models.PositiveSmallIntegerField()
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "year"], name="counter_name_year_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}/{self.year}={self.value}"


class ClosureDay(models.Model):
    """A day the institution is closed besides weekends and legal holidays."""

    date = models.DateField(_("date"), unique=True)
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        verbose_name = _("closure day")
        verbose_name_plural = _("closure days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%d.%m.%Y} {self.reason}"

    CACHE_KEY = "core:closure_days"

    @classmethod
    def cached_dates(cls) -> frozenset[dt.date]:
        dates = cache.get(cls.CACHE_KEY)
        if dates is None:
            dates = frozenset(cls.objects.values_list("date", flat=True))
            cache.set(cls.CACHE_KEY, dates, 300)
        return dates
