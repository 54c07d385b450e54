"""The intranet's messages (issue 9): channels, memberships, messages, mentions, files.

Reading a channel's latest page is one range of the (channel, id) index; an unread count
is a bounded count of the same index past the member's ``last_read_id``; a channel with
nothing new is skipped without counting, because ``Channel.last_message_id`` (kept by
``services.chat_post``) is not past the pointer. See docs/intranet-messages.md.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.utils.translation import gettext_lazy as _

from cetatea.intranet.chat.choices import ChannelKind, EmailMode


class Channel(models.Model):
    """A conversation place: a department's channel, a topic channel (public or private)
    or direct messages between a few people."""

    kind = models.CharField(_("kind"), max_length=12, choices=ChannelKind.choices)
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    # Department channels only: whose staff read it.
    department = models.ForeignKey(
        "catalog.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Direct messages only: the sorted member ids ("3-7-12"), so that the same people
    # always meet in the same conversation (unique).
    direct_key = models.CharField(  # noqa: DJ001 (NULL: not unique among other channels)
        max_length=200, null=True, blank=True, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Id of the newest message (0: none); written in the same transaction as the message.
    last_message_id = models.BigIntegerField(default=0)
    archived = models.BooleanField(_("archived"), default=False)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["direct_key"], name="chat_channel_direct_unique"),
            models.CheckConstraint(
                condition=~models.Q(kind="department") | models.Q(department__isnull=False),
                name="chat_channel_department_set",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "department"], name="chat_channel_kind_dept_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A person in a channel, with how far they have read and whether they were invited.

    Department staff get a row the first time they read or post (``invited`` false): it
    holds their read pointer, and it stops counting when they leave the department. An
    invited member (``invited`` true) reads the channel whatever their department."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_memberships"
    )
    invited = models.BooleanField(default=False)
    last_read_id = models.BigIntegerField(default=0)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("channel member")
        verbose_name_plural = _("channel members")
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="chat_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.channel_id}"


class MessageQuerySet(models.QuerySet):
    def visible(self):
        return self.filter(deleted_at__isnull=True)


class Message(models.Model):
    """A message: plain text (links and @mentions are made clickable when shown)."""

    id = models.BigAutoField(primary_key=True)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("message"))
    # The folded body (core.text.fold) that the search reads (search.py).
    body_key = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(_("sent"))
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    # The form's one-time key: a double submit returns the message already written.
    client_key = models.CharField(  # noqa: DJ001 (NULL: no key, not unique)
        max_length=64, null=True, blank=True, editable=False
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["author", "client_key"], name="chat_message_once"),
        ]
        indexes = [
            models.Index(fields=["channel", "id"], name="chat_message_channel_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.pk} in {self.channel_id}"


class Mention(models.Model):
    """Someone named with @username in a message of a channel they can read."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        constraints = [
            models.UniqueConstraint(fields=["user", "message"], name="chat_mention_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.message_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"chat/{instance.message.channel_id}/{filename}"


def _private_storage():
    return storages["private"]


class Attachment(models.Model):
    """A file sent with a message, kept in the private storage (served by a view that
    checks the channel)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, storage=_private_storage, max_length=300)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class ChatSettings(models.Model):
    """A person's e-mail settings for what they missed, and how far the digest has gone."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_settings"
    )
    email_mode = models.CharField(
        _("e-mail me"), max_length=10, choices=EmailMode.choices, default=EmailMode.MENTIONS
    )
    delay_minutes = models.PositiveSmallIntegerField(_("after"), default=15)
    # Every message with an id up to this one has been considered by the digest for this
    # person (mailed or not): a message is mailed at most once.
    mailed_up_to_id = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("message settings")
        verbose_name_plural = _("message settings")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.email_mode}"
