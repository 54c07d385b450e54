"""The e-mail of what a person missed in the messages (``manage.py chat_digest``).

Each person chooses (``ChatSettings``): no e-mail, mentions and direct messages (the
default), or everything unread; and how long a message must wait unread (the delay). A
run mails each person one e-mail listing the unread messages of their choice sent before
``now - delay`` and not yet considered, then moves their ``mailed_up_to_id`` past every
message up to that moment: a message is mailed at most once, whether the run is repeated,
overlaps another or the person reads it later. The pointer moves in the transaction that
sends the e-mail; a failed send rolls it back, and the next run tries again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cetatea.intranet.chat.choices import ChannelKind, EmailMode
from cetatea.intranet.chat.models import Channel, ChatSettings, Membership, Mention, Message
from cetatea.intranet.chat.selectors import can_read
from cetatea.intranet.selectors import department_id_of

PER_CHANNEL = 20  # messages listed per channel; the rest are counted as "and N more"


@dataclass
class MissedChannel:
    channel: Channel
    messages: list[Message] = field(default_factory=list)
    more: int = 0
    url: str = ""


def _staff_with_email():
    perm = Permission.objects.filter(
        content_type__app_label="intranet", codename="use_intranet"
    ).first()
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    if perm is None:
        return users.filter(is_superuser=True)
    return users.filter(
        Q(is_superuser=True) | Q(groups__permissions=perm) | Q(user_permissions=perm)
    ).distinct()


def _boundary(now: dt.datetime, delay_minutes: int, cache: dict[int, int]) -> int:
    """The id of the newest message sent at or before ``now - delay`` (0: none); walks
    the newest messages back, as many as were sent during the delay."""
    if delay_minutes not in cache:
        cutoff = now - dt.timedelta(minutes=delay_minutes)
        cache[delay_minutes] = (
            Message.objects.filter(created_at__lte=cutoff)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
            or 0
        )
    return cache[delay_minutes]


def _read_pointers(user) -> dict[int, tuple[Channel, int]]:
    """Channels ``user`` reads and is part of, with their read pointer (0 for their
    department's channels they never opened)."""
    out: dict[int, tuple[Channel, int]] = {}
    for m in Membership.objects.filter(user=user).select_related("channel"):
        if can_read(user, m.channel, m):
            out[m.channel_id] = (m.channel, m.last_read_id)
    department_id = department_id_of(user)
    if department_id is not None:
        for channel in Channel.objects.filter(
            kind=ChannelKind.DEPARTMENT, department_id=department_id
        ):
            out.setdefault(channel.pk, (channel, 0))
    return out


def missed(user, mode: str, after: int, upto: int) -> list[MissedChannel]:
    """What ``user`` missed among the messages with ids in (``after``, ``upto``]: unread,
    from others, not deleted; mentions and direct messages only unless ``mode`` is ALL."""
    if upto <= after or mode == EmailMode.OFF:
        return []
    pointers = _read_pointers(user)
    groups: dict[int, MissedChannel] = {}

    def add(channel: Channel, messages: list[Message], more: int = 0) -> None:
        group = groups.setdefault(channel.pk, MissedChannel(channel))
        known = {m.pk for m in group.messages}
        group.messages += [m for m in messages if m.pk not in known]
        group.more += more

    whole = [
        (channel, last_read)
        for channel, last_read in pointers.values()
        if mode == EmailMode.ALL or channel.kind == ChannelKind.DIRECT
    ]
    for channel, last_read in whole:
        start = max(after, last_read)
        if channel.last_message_id <= start:
            continue
        qs = (
            Message.objects.visible()
            .filter(channel=channel, id__gt=start, id__lte=upto)
            .exclude(author=user)
            .select_related("author")
            .order_by("id")
        )
        rows = list(qs[: PER_CHANNEL + 1])
        if rows:
            more = 0
            if len(rows) > PER_CHANNEL:
                more = qs[: 10 * PER_CHANNEL].count() - PER_CHANNEL
            add(channel, rows[:PER_CHANNEL], more)
    if mode != EmailMode.ALL:
        mentions = (
            Mention.objects.filter(
                user=user, message_id__gt=after, message_id__lte=upto, message__deleted_at=None
            )
            .select_related("message__author")
            .order_by("message_id")[: 5 * PER_CHANNEL]
        )
        for mention in mentions:
            channel_read = pointers.get(mention.channel_id)
            if channel_read is None:  # a channel no longer read
                continue
            channel, last_read = channel_read
            if mention.message_id > last_read:
                add(channel, [mention.message])
    out = [g for g in groups.values() if g.messages]
    for g in out:
        g.messages.sort(key=lambda m: m.pk)
    return sorted(out, key=lambda g: g.channel.name)


def _send(user, groups: list[MissedChannel]) -> None:
    base = getattr(settings, "CETATEA_STAFF_URL", "") or settings.CETATEA_SITE_URL
    with translation.override(settings.LANGUAGE_CODE):
        for g in groups:
            g.url = base.rstrip("/") + reverse("chat:channel", args=[g.channel.pk])
        total = sum(len(g.messages) + g.more for g in groups)
        context = {"user": user, "groups": groups, "total": total}
        subject = _("Messages you missed on the intranet (%(n)d)") % {"n": total}
        body = render_to_string("chat/email/digest.txt", context)
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]).send()


def chat_digest_send(*, now: dt.datetime | None = None) -> int:
    """One e-mail per person with what they missed (see the module); how many were sent."""
    now = now or timezone.now()
    boundaries: dict[int, int] = {}
    sent = 0
    prefs = {s.user_id: s for s in ChatSettings.objects.all()}
    for user in _staff_with_email().iterator():
        pref = prefs.get(user.pk) or ChatSettings(user=user)
        if pref.email_mode == EmailMode.OFF:
            continue
        upto = _boundary(now, pref.delay_minutes, boundaries)
        if upto <= pref.mailed_up_to_id:
            continue
        with transaction.atomic():
            row, _created = ChatSettings.objects.get_or_create(user=user)
            row = ChatSettings.objects.select_for_update().get(pk=row.pk)
            if row.email_mode == EmailMode.OFF or row.mailed_up_to_id >= upto:
                continue  # changed meanwhile, or another run got here first
            groups = missed(user, row.email_mode, row.mailed_up_to_id, upto)
            if groups:
                _send(user, groups)
                sent += 1
            row.mailed_up_to_id = upto
            row.save(update_fields=["mailed_up_to_id"])
    return sent
