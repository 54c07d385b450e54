"""The intranet's own models: announcements with read receipts.

Documents, schedules, tasks and messages are apps of their own under this package
(``cetatea.intranet.documents`` and so on), so that each has its own migrations.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cetatea.core.fields import SearchKeyField
from cetatea.intranet.choices import BodyFormat


class AnnouncementQuerySet(models.QuerySet):
    def published(self):
        return self.filter(unpublished_at__isnull=True)


class Announcement(models.Model):
    """A notice from a manager to all staff or to one department, with read receipts."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    body_format = models.CharField(
        _("format"), max_length=10, choices=BodyFormat.choices, default=BodyFormat.MARKDOWN
    )
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
    # Set when the author or an administrator withdraws it: hidden from the lists, the
    # read receipts kept.
    unpublished_at = models.DateTimeField(_("unpublished"), null=True, blank=True)
    updated_at = models.DateTimeField(_("last edited"), null=True, blank=True)
    # Optimistic locking: an edit made from an older version is refused, not merged.
    version = models.PositiveIntegerField(default=1, editable=False)
    # The publish form's one-time token: a double submit returns the first announcement.
    submit_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = AnnouncementQuerySet.as_manager()

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
            # The lists: pinned first, newest next, read in index order and stopped early.
            models.Index(
                fields=["-pinned", "-published_at", "-id"],
                condition=models.Q(unpublished_at__isnull=True),
                name="announcement_list_idx",
            ),
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


class DirectoryEntry(models.Model):
    """The folded name keys of a staff account, for the staff directory's search.

    Kept in step with the user's name when the user is saved (see apps.py) and by the
    ``intranet_directory_sync`` command after bulk loads; ``core.text.name_key`` folds
    diacritics so that "Stefan", "Ştefan" and "Ștefan" meet.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="directory_entry",
    )
    name_key = SearchKeyField(max_length=310, db_index=True)  # "last first"
    name_key_rev = SearchKeyField(max_length=310, db_index=True)  # "first last"

    class Meta:
        verbose_name = _("directory entry")
        verbose_name_plural = _("directory entries")

    def __str__(self) -> str:
        return self.name_key
