"""The sign-in log of every account."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cetatea.accounts.choices import Outcome

USER_AGENT_LENGTH = 300


class SignInQuerySet(models.QuerySet):
    def update(self, **kwargs):  # the log is evidence: rows are never changed
        raise PermissionError("sign-in log rows cannot be changed")

    # ``delete()`` stays allowed: retention removes old rows with a plain queryset delete.


class SignIn(models.Model):
    """One sign-in event: a password tried, a second factor checked, a sign-out.

    Append-only, like the audit log: a row is never changed; old rows are deleted in bulk
    by the retention job.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # What was typed, even when no such account exists (a guessing attack shows here).
    username = models.CharField(_("user name"), max_length=150, blank=True)
    time = models.DateTimeField(_("time"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=USER_AGENT_LENGTH, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)

    objects = SignInQuerySet.as_manager()

    class Meta:
        verbose_name = _("sign-in")
        verbose_name_plural = _("sign-in log")
        ordering = ["-time", "-id"]
        indexes = [
            models.Index(fields=["user", "-time"], name="signin_user_time_idx"),
            models.Index(fields=["time"], name="signin_time_idx"),  # retention deletes
        ]
        permissions = [
            ("manage_account_security", _("Reset another account's two-factor and unlock it")),
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} {self.username} {self.outcome}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("sign-in log rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("a sign-in log row is removed only by the retention job")
