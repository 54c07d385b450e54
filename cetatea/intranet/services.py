"""Writes of the intranet's own pages: announcements, read receipts, directory keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.catalog.models import Department
from cetatea.core.text import name_key
from cetatea.intranet.choices import BodyFormat
from cetatea.intranet.models import Announcement, AnnouncementRead, DirectoryEntry
from cetatea.intranet.selectors import can_edit_announcement

TITLE_MAX = 200
BODY_MAX = 20_000


def _validate(*, title: str, body: str, body_format: str) -> tuple[str, str]:
    errors = {}
    title = title.strip()
    body = body.strip()
    if not title:
        errors["title"] = _("Give the announcement a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("The title is at most %(max)d characters.") % {"max": TITLE_MAX}
    if not body:
        errors["body"] = _("Write the text of the announcement.")
    elif len(body) > BODY_MAX:
        errors["body"] = _("The text is at most %(max)d characters.") % {"max": BODY_MAX}
    if body_format not in BodyFormat.values:
        errors["body_format"] = _("Choose a format.")
    if errors:
        raise ValidationError(errors)
    return title, body


def announcement_publish(
    *,
    author: AbstractBaseUser,
    title: str,
    body: str,
    body_format: str = BodyFormat.MARKDOWN,
    department: Department | None = None,
    pinned: bool = False,
    submit_token: uuid.UUID | None = None,
) -> Announcement:
    """Publish an announcement to everyone or to one department.

    ``submit_token`` (the form's one-time token) makes a double submit return the
    announcement published by the first one. The author's own read receipt is written in
    the same transaction: they have read what they wrote.
    """
    if not author.has_perm("intranet.publish_announcement"):
        raise PermissionDenied
    title, body = _validate(title=title, body=body, body_format=body_format)
    if submit_token is not None:
        existing = Announcement.objects.filter(submit_token=submit_token).first()
        if existing is not None:
            return existing
    now = timezone.now()
    try:
        with transaction.atomic():
            announcement = Announcement.objects.create(
                title=title,
                body=body,
                body_format=body_format,
                department=department,
                pinned=pinned,
                author=author,
                published_at=now,
                submit_token=submit_token,
            )
            AnnouncementRead.objects.create(announcement=announcement, user=author, read_at=now)
    except IntegrityError:
        # The same token committed by a concurrent request a moment ago.
        if submit_token is None:
            raise
        existing = Announcement.objects.filter(submit_token=submit_token).first()
        if existing is None:
            raise
        return existing
    return announcement


def announcement_update(
    *,
    announcement_id: int,
    actor: AbstractBaseUser,
    version: int,
    title: str,
    body: str,
    body_format: str,
    department: Department | None,
    pinned: bool,
) -> Announcement:
    """Edit an announcement (its author or an administrator).

    ``version`` is the one the editor started from: if someone saved in between, nothing
    is written and a ValidationError says so, so neither edit is silently lost.
    """
    title, body = _validate(title=title, body=body, body_format=body_format)
    with transaction.atomic():
        announcement = Announcement.objects.select_for_update().get(pk=announcement_id)
        if not can_edit_announcement(actor, announcement):
            raise PermissionDenied
        if announcement.version != version:
            raise ValidationError(
                _(
                    "Someone else changed this announcement while you were editing it. "
                    "Your text is below: compare it with the current version and save again."
                ),
                code="stale",
            )
        announcement.title = title
        announcement.body = body
        announcement.body_format = body_format
        announcement.department = department
        announcement.pinned = pinned
        announcement.updated_at = timezone.now()
        announcement.version += 1
        announcement.save(
            update_fields=[
                "title",
                "body",
                "body_format",
                "department",
                "pinned",
                "updated_at",
                "version",
            ]
        )
    return announcement


def announcement_unpublish(*, announcement_id: int, actor: AbstractBaseUser) -> Announcement:
    """Withdraw an announcement from the lists (its receipts are kept). Idempotent."""
    with transaction.atomic():
        announcement = Announcement.objects.select_for_update().get(pk=announcement_id)
        if not can_edit_announcement(actor, announcement):
            raise PermissionDenied
        if announcement.unpublished_at is None:
            announcement.unpublished_at = timezone.now()
            announcement.version += 1
            announcement.save(update_fields=["unpublished_at", "version"])
    return announcement


def announcement_mark_read(*, announcement: Announcement, user: AbstractBaseUser) -> None:
    """Record that ``user`` has read ``announcement``, once.

    ``INSERT ... ON CONFLICT DO NOTHING`` on the (announcement, user) unique constraint:
    a double click or two tabs at the same moment leave one row with the first time.
    """
    AnnouncementRead.objects.bulk_create(
        [AnnouncementRead(announcement=announcement, user=user, read_at=timezone.now())],
        ignore_conflicts=True,
    )


def directory_sync(*, user_ids: Iterable[int] | None = None) -> int:
    """Write the directory's folded name keys of these accounts (all when None).

    Returns the number of accounts written."""
    User = get_user_model()
    qs = User.objects.all()
    if user_ids is not None:
        qs = qs.filter(pk__in=list(user_ids))
    rows = [
        DirectoryEntry(
            user_id=pk,
            name_key=name_key(last, first) or name_key(username),
            name_key_rev=name_key(first, last) or name_key(username),
        )
        for pk, username, first, last in qs.values_list(
            "pk", "username", "first_name", "last_name"
        ).iterator()
    ]
    DirectoryEntry.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["name_key", "name_key_rev"],
    )
    return len(rows)


def directory_user_saved(sender, instance, created=False, update_fields=None, **_kwargs) -> None:
    """post_save of the user model: refresh the name keys when a name may have changed."""
    names = {"first_name", "last_name", "username"}
    if update_fields is not None and not names & set(update_fields):
        return  # e.g. last_login on every sign-in
    directory_sync(user_ids=[instance.pk])
