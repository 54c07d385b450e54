"""The intranet's own models: announcements with read receipts.

Documents, schedules, tasks and messages are apps of their own under this package
(``cetatea.intranet.documents`` and so on), so that each has its own migrations.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Announcement(models.Model):
    """A notice from a manager to all staff or to one department, with read receipts."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    # Empty: everyone; else only this department's staff see it.
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published"), db_index=True)
    pinned = models.BooleanField(_("pinned"), default=False)

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        ordering = ["-published_at", "-id"]
        permissions = [
            ("use_intranet", _("Can use the staff intranet")),
            ("publish_announcement", _("Can publish announcements")),
        ]
        indexes = [
            models.Index(fields=["department", "-published_at"], name="announcement_dept_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class AnnouncementRead(models.Model):
    """Who has read an announcement, and when (the read receipt)."""

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(_("read"))

    class Meta:
        verbose_name = _("announcement read")
        verbose_name_plural = _("announcement reads")
        constraints = [
            models.UniqueConstraint(fields=["announcement", "user"], name="announcementread_unique")
        ]
        indexes = [models.Index(fields=["user", "announcement"], name="announcementread_user_idx")]

    def __str__(self) -> str:
        return f"{self.announcement_id} read by {self.user_id}"
