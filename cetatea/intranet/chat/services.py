"""Writes of the intranet's messages: channels, posting, reading, editing, settings.

Posting locks the channel's row: messages of one channel are written one after the
other, so their ids grow in the order they become visible and a reader polling for
``id > last seen`` never misses one committed late. The same lock makes a double submit
(the form's one-time key) return the message already written.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.core import uploads
from cetatea.core.text import fold
from cetatea.intranet.chat import selectors
from cetatea.intranet.chat.choices import DELAY_CHOICES, ChannelKind, EmailMode
from cetatea.intranet.chat.models import (
    Attachment,
    Channel,
    ChatSettings,
    Membership,
    Mention,
    Message,
)
from cetatea.intranet.selectors import access_intranet, department_id_of

MAX_BODY = 10_000
MAX_FILES = 5
MAX_DIRECT_PEOPLE = 8
MENTION_RE = re.compile(r"(?<![\w@])@([\w.+-]+)")


def max_file_bytes() -> int:
    return getattr(settings, "CETATEA_CHAT_MAX_FILE_BYTES", 20 * 1024 * 1024)


def _user_model():
    return get_user_model()


# --- files ----------------------------------------------------------------------------------


def attachment_check(file) -> tuple[str, str]:
    """(content type, extension) of a file to attach; ``ValidationError`` if the shared
    upload policy (``cetatea.core.uploads``) refuses it."""
    uploads.check_upload(file, max_bytes=max_file_bytes())
    name = uploads.safe_name(getattr(file, "name", ""))
    return uploads.content_type_for(name), uploads.storage_extension(name)


def _sha256(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


# --- channels -------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Give the channel a name.")})
    if len(name) > 80:
        raise ValidationError({"name": _("A channel name has at most 80 characters.")})
    return name


def chat_channel_create(
    *,
    actor: AbstractBaseUser,
    kind: str,
    name: str,
    description: str = "",
    member_ids: list[int] = (),
) -> Channel:
    """A new channel: for the actor's department, public, or private (the actor and
    ``member_ids`` as members)."""
    access_intranet(actor)
    name = _clean_name(name)
    department_id = None
    if kind == ChannelKind.DEPARTMENT:
        department_id = department_id_of(actor)
        if department_id is None:
            raise ValidationError(
                {"kind": _("You belong to no department: choose a public or private channel.")}
            )
    elif kind not in (ChannelKind.PUBLIC, ChannelKind.PRIVATE):
        raise ValidationError({"kind": _("Choose the kind of channel.")})
    with transaction.atomic():
        channel = Channel.objects.create(
            kind=kind,
            name=name,
            description=(description or "").strip()[:300],
            department_id=department_id,
            created_by=actor,
        )
        invited = kind == ChannelKind.PRIVATE
        Membership.objects.create(channel=channel, user=actor, invited=invited)
        others = _active_staff(set(member_ids) - {actor.pk})
        Membership.objects.bulk_create(
            [Membership(channel=channel, user_id=uid, invited=True) for uid in others],
            ignore_conflicts=True,
        )
    return channel


def chat_department_channels() -> int:
    """One "general" channel for each active department that has none; how many were
    created (idempotent)."""
    from cetatea.catalog.models import Department

    created = 0
    have = set(
        Channel.objects.filter(kind=ChannelKind.DEPARTMENT).values_list("department_id", flat=True)
    )
    for department in Department.objects.filter(is_active=True).exclude(pk__in=have):
        Channel.objects.create(
            kind=ChannelKind.DEPARTMENT,
            name=department.name_ro,
            description="",
            department=department,
        )
        created += 1
    return created


def _active_staff(user_ids) -> list[int]:
    """The ids among ``user_ids`` of active accounts that may use the intranet."""
    users = _user_model().objects.filter(pk__in=list(user_ids), is_active=True)
    return [u.pk for u in users if u.has_perm("intranet.use_intranet")]


def chat_direct_open(*, actor: AbstractBaseUser, user_ids: list[int]) -> Channel:
    """The direct conversation between the actor and ``user_ids`` (created the first time;
    the same people always get the same one)."""
    access_intranet(actor)
    others = set(_active_staff(set(user_ids) - {actor.pk}))
    if not others:
        raise ValidationError({"people": _("Choose at least one colleague.")})
    if len(others) + 1 > MAX_DIRECT_PEOPLE:
        message = _("At most %(n)d people in direct messages; create a private channel.")
        raise ValidationError({"people": message % {"n": MAX_DIRECT_PEOPLE}})
    ids = sorted(others | {actor.pk})
    key = "-".join(str(i) for i in ids)
    existing = Channel.objects.filter(direct_key=key).first()
    if existing is not None:
        return existing
    users = _user_model().objects.filter(pk__in=ids).order_by("last_name", "first_name", "username")
    name = ", ".join(selectors.display_name(u) for u in users)[:80]
    try:
        with transaction.atomic():
            channel = Channel.objects.create(
                kind=ChannelKind.DIRECT, name=name, direct_key=key, created_by=actor
            )
            Membership.objects.bulk_create(
                [Membership(channel=channel, user_id=uid, invited=True) for uid in ids]
            )
    except IntegrityError:  # the other person opened it at the same moment
        return Channel.objects.get(direct_key=key)
    return channel


def chat_join(*, actor: AbstractBaseUser, channel_id: int) -> Membership:
    """Join a channel one may read (a public one: its unread count appears in the list)."""
    channel, membership = selectors.access_channel(actor, channel_id)
    if membership is not None:
        return membership
    membership, _created = Membership.objects.get_or_create(channel=channel, user=actor)
    return membership


def chat_leave(*, actor: AbstractBaseUser, channel_id: int) -> None:
    """Leave a public or private channel (a department's staff stay in theirs; direct
    messages keep their people)."""
    channel, membership = selectors.access_channel(actor, channel_id)
    if channel.kind == ChannelKind.DIRECT:
        raise ValidationError(_("You cannot leave direct messages."))
    own_department = (
        channel.kind == ChannelKind.DEPARTMENT and channel.department_id == department_id_of(actor)
    )
    if own_department:
        raise ValidationError(_("You cannot leave your department's channel."))
    if membership is not None:
        membership.delete()


def chat_member_add(*, actor: AbstractBaseUser, channel_id: int, username: str) -> Membership:
    """Invite a colleague into a private or department channel the actor reads."""
    channel, _m = selectors.access_channel(actor, channel_id)
    if channel.kind not in (ChannelKind.PRIVATE, ChannelKind.DEPARTMENT):
        raise ValidationError({"username": _("Everyone can already read this channel.")})
    user = _user_model().objects.filter(username=(username or "").strip(), is_active=True).first()
    if user is None or not user.has_perm("intranet.use_intranet"):
        raise ValidationError({"username": _("No colleague has this user name.")})
    with transaction.atomic():
        membership, created = Membership.objects.select_for_update().get_or_create(
            channel=channel, user=user, defaults={"invited": True}
        )
        if not created and not membership.invited:
            membership.invited = True
            membership.save(update_fields=["invited"])
    return membership


# --- messages -------------------------------------------------------------------------------


def mentioned_users(body: str, channel: Channel) -> list:
    """Active accounts named ``@username`` in ``body`` that may read ``channel``."""
    names = set()
    for raw in MENTION_RE.findall(body):
        names.add(raw)
        names.add(raw.rstrip(".-+"))
    names.discard("")
    if not names:
        return []
    users = _user_model().objects.filter(username__in=list(names)[:50], is_active=True)
    memberships = {m.user_id: m for m in Membership.objects.filter(channel=channel, user__in=users)}
    return [u for u in users if selectors.can_read(u, channel, memberships.get(u.pk))]


@dataclass(frozen=True)
class PostedFile:
    """A file checked before the transaction: its content type and stored extension."""

    file: object
    content_type: str
    extension: str
    sha256: str


def _check_files(files) -> list[PostedFile]:
    files = [f for f in files if f]
    if len(files) > MAX_FILES:
        raise ValidationError(
            {"files": _("At most %(n)d files in one message; nothing was sent.") % {"n": MAX_FILES}}
        )
    checked = []
    errors = []
    for f in files:
        try:
            content_type, extension = attachment_check(f)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        checked.append(PostedFile(f, content_type, extension, _sha256(f)))
    if errors:
        raise ValidationError({"files": errors})
    return checked


def chat_post(
    *,
    actor: AbstractBaseUser,
    channel_id: int,
    body: str,
    files=(),
    client_key: str = "",
) -> Message:
    """Post a message (and its files) to a channel the actor reads.

    Everything is checked before anything is written: a channel closed to the actor
    (``ChannelClosed``), an empty or too long message, a file too large or forbidden
    (``ValidationError``, nothing saved). ``client_key`` (the form's one-time key) makes a
    repeated submit return the message already posted."""
    channel, membership = selectors.access_channel(actor, channel_id)
    if channel.archived:
        raise ValidationError({"body": _("This channel is archived: no new messages.")})
    body = (body or "").replace("\r\n", "\n").strip()
    client_key = (client_key or "").strip()[:64] or None
    if client_key:
        existing = Message.objects.filter(author=actor, client_key=client_key).first()
        if existing is not None:
            return existing
    checked = _check_files(files)
    if not body and not checked:
        raise ValidationError({"body": _("Write a message or attach a file.")})
    if len(body) > MAX_BODY:
        raise ValidationError(
            {"body": _("A message has at most %(n)d characters.") % {"n": MAX_BODY}}
        )
    mentioned = [u for u in mentioned_users(body, channel) if u.pk != actor.pk]
    stored: list[str] = []
    try:
        with transaction.atomic():
            # One writer per channel at a time (ids in commit order; the double submit).
            Channel.objects.select_for_update().filter(pk=channel.pk).values_list("pk").get()
            if client_key:
                existing = Message.objects.filter(author=actor, client_key=client_key).first()
                if existing is not None:
                    return existing
            now = timezone.now()
            message = Message.objects.create(
                channel=channel,
                author=actor,
                body=body,
                body_key=fold(body),
                created_at=now,
                client_key=client_key,
            )
            for posted in checked:
                row = Attachment(
                    message=message,
                    original_name=Path(posted.file.name or "").name[-200:] or "file",
                    content_type=posted.content_type,
                    size=posted.file.size,
                    sha256=posted.sha256,
                )
                # The private storage as configured now (see registry services).
                row.file.storage = storages["private"]
                row.file.save(f"{uuid.uuid4().hex}.{posted.extension}", posted.file, save=False)
                stored.append(row.file.name)
                row.save()
            Mention.objects.bulk_create(
                [Mention(message=message, user=u, channel=channel) for u in mentioned]
            )
            Channel.objects.filter(pk=channel.pk).update(last_message_id=message.pk)
            channel.last_message_id = message.pk
            _advance(actor, channel, membership, message.pk)
    except Exception:
        for name in stored:  # no orphan file when the rows are not written
            storages["private"].delete(name)
        raise
    return message


def _advance(user, channel: Channel, membership: Membership | None, up_to: int) -> None:
    """Move the user's read pointer in ``channel`` forward to ``up_to`` (never back)."""
    if membership is None:
        if channel.kind == ChannelKind.PUBLIC:
            # Posting in a public channel joins it (its replies are then counted).
            Membership.objects.get_or_create(
                channel=channel, user=user, defaults={"last_read_id": up_to}
            )
        elif channel.kind == ChannelKind.DEPARTMENT:
            Membership.objects.get_or_create(
                channel=channel, user=user, defaults={"last_read_id": up_to}
            )
    Membership.objects.filter(channel=channel, user=user, last_read_id__lt=up_to).update(
        last_read_id=up_to
    )


def chat_mark_read(
    *, user: AbstractBaseUser, channel: Channel, membership: Membership | None, up_to: int
) -> None:
    """The user has seen ``channel`` up to the message ``up_to`` (a department's staff get
    their membership row here the first time; a public channel one has not joined keeps
    no pointer)."""
    if up_to <= 0:
        return
    if membership is not None and membership.last_read_id >= up_to:
        return
    if membership is None and channel.kind != ChannelKind.DEPARTMENT:
        return
    with transaction.atomic():
        _advance(user, channel, membership, up_to)


def chat_message_edit(*, actor: AbstractBaseUser, message_id: int, body: str) -> Message:
    """Change the text of one's message within the edit window; new @mentions notify."""
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError({"body": _("Write a message (or delete it).")})
    if len(body) > MAX_BODY:
        raise ValidationError(
            {"body": _("A message has at most %(n)d characters.") % {"n": MAX_BODY}}
        )
    with transaction.atomic():
        message = selectors.access_message_change(actor, message_id)
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.deleted_at is not None:
            raise ValidationError({"body": _("This message was deleted meanwhile.")})
        message.body = body
        message.body_key = fold(body)
        message.edited_at = timezone.now()
        message.save(update_fields=["body", "body_key", "edited_at"])
        mentioned = [u for u in mentioned_users(body, message.channel) if u.pk != actor.pk]
        Mention.objects.bulk_create(
            [Mention(message=message, user=u, channel=message.channel) for u in mentioned],
            ignore_conflicts=True,
        )
    return message


def chat_message_delete(*, actor: AbstractBaseUser, message_id: int) -> Message:
    """Delete one's message within the edit window: its text and files are removed, a
    "message deleted" line stays so the conversation keeps its shape."""
    with transaction.atomic():
        message = selectors.access_message_change(actor, message_id)
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.deleted_at is not None:
            return message
        names = list(message.attachments.values_list("file", flat=True))
        message.body = ""
        message.body_key = ""
        message.deleted_at = timezone.now()
        message.save(update_fields=["body", "body_key", "deleted_at"])
        message.attachments.all().delete()
        message.mentions.all().delete()
        storage = storages["private"]
        transaction.on_commit(lambda: [storage.delete(n) for n in names])
    return message


# --- settings -------------------------------------------------------------------------------


def chat_settings_of(user: AbstractBaseUser) -> ChatSettings:
    """The user's settings (the defaults, unsaved, until they change them)."""
    row = ChatSettings.objects.filter(user=user).first()
    return row or ChatSettings(user=user)


def chat_settings_update(
    *, user: AbstractBaseUser, email_mode: str, delay_minutes: int
) -> ChatSettings:
    access_intranet(user)
    if email_mode not in EmailMode.values:
        raise ValidationError({"email_mode": _("Choose when to be e-mailed.")})
    if delay_minutes not in {d for d, _label in DELAY_CHOICES}:
        raise ValidationError({"delay_minutes": _("Choose a delay from the list.")})
    row, _created = ChatSettings.objects.update_or_create(
        user=user, defaults={"email_mode": email_mode, "delay_minutes": delay_minutes}
    )
    return row
