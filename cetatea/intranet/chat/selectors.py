"""Who may read which channel, and the reads of the messages pages.

A channel is readable by:

* a public topic channel: every intranet user;
* a department channel: the staff of that department (``StaffProfile.department``) and
  the people invited into it;
* a private channel and direct messages: their members only.

``access_channel`` is the one check every view that shows, posts to, searches or counts
a channel goes through; ``readable_channels_q`` is the same rule as a filter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.core.db import filter_unindexed
from cetatea.core.text import fold
from cetatea.intranet.chat.choices import ChannelKind
from cetatea.intranet.chat.models import Attachment, Channel, Membership, Mention, Message
from cetatea.intranet.selectors import access_intranet, department_id_of

PAGE_SIZE = 50
# Unread counts stop here ("99+"): counting reads at most this many index entries.
UNREAD_CAP = 100
# At most this many conversations in the side list (the most recently active first).
CHANNEL_LIST_LIMIT = 200
SEARCH_PAGE_SIZE = 20
MIN_SEARCH_WORD = 3
# SQLite: a word matching at most this many messages is read from the trigram index;
# a commoner one walks the newest messages instead (registry/selectors.py does the same).
PROBE_LIMIT = 2000


class ChannelClosed(PermissionDenied):
    """The channel exists but the user may not read it (nor post to it)."""


def edit_window() -> dt.timedelta:
    return dt.timedelta(minutes=getattr(settings, "CETATEA_CHAT_EDIT_MINUTES", 15))


# --- who may read what ----------------------------------------------------------------------


def can_read(user: AbstractBaseUser, channel: Channel, membership: Membership | None) -> bool:
    """Whether ``user`` may read ``channel`` (``membership``: theirs in it, or None)."""
    if channel.kind == ChannelKind.PUBLIC:
        return True
    if membership is not None and membership.invited:
        return True
    if channel.kind == ChannelKind.DEPARTMENT:
        department_id = department_id_of(user)
        return department_id is not None and channel.department_id == department_id
    return False


def readable_channels_q(user: AbstractBaseUser) -> Q:
    """The channels ``user`` may read, as a filter on Channel."""
    invited = Exists(Membership.objects.filter(channel=OuterRef("pk"), user=user, invited=True))
    q = Q(kind=ChannelKind.PUBLIC) | Q(invited)
    department_id = department_id_of(user)
    if department_id is not None:
        q |= Q(kind=ChannelKind.DEPARTMENT, department_id=department_id)
    return q


def membership_of(user: AbstractBaseUser, channel: Channel) -> Membership | None:
    return Membership.objects.filter(user=user, channel=channel).first()


def access_channel(user: AbstractBaseUser, channel_id: int) -> tuple[Channel, Membership | None]:
    """The channel and the user's membership; 404 if there is no such channel,
    ``ChannelClosed`` if the user may not read it."""
    access_intranet(user)
    channel = Channel.objects.select_related("department").filter(pk=channel_id).first()
    if channel is None:
        raise Http404
    membership = membership_of(user, channel)
    if not can_read(user, channel, membership):
        raise ChannelClosed(_("This channel is closed to you: you cannot read or post in it."))
    return channel, membership


def access_message_change(user: AbstractBaseUser, message_id: int) -> Message:
    """A message ``user`` may still edit or delete: theirs, not deleted, sent within the
    edit window, in a channel they still read."""
    message = (
        Message.objects.select_related("channel").filter(pk=message_id).first()
        if user.is_authenticated
        else None
    )
    if message is None or message.deleted_at is not None:
        raise Http404
    access_channel(user, message.channel_id)
    if message.author_id != user.pk:
        raise PermissionDenied(_("Only the author can change a message."))
    if timezone.now() - message.created_at > edit_window():
        raise PermissionDenied(
            _("A message can be changed only within %(minutes)d minutes of sending it.")
            % {"minutes": int(edit_window().total_seconds() // 60)}
        )
    return message


def access_attachment(user: AbstractBaseUser, attachment_id: int) -> Attachment:
    """A file of a message in a channel ``user`` reads (404 for a deleted message)."""
    access_intranet(user)
    row = Attachment.objects.select_related("message").filter(pk=attachment_id).first()
    if row is None or row.message.deleted_at is not None:
        raise Http404
    access_channel(user, row.message.channel_id)
    return row


# --- pages of a channel ---------------------------------------------------------------------


@dataclass
class MessagePage:
    messages: list[Message] = field(default_factory=list)  # oldest first, as shown
    older: int | None = None  # "?before=" of the previous page, None if this is the first


def _with_files(messages: list[Message]) -> list[Message]:
    """Give each message its files as ``files`` (one query, none when the page has no
    file: ``prefetch_related`` would cost more per message than the files are worth)."""
    by_message: dict[int, list[Attachment]] = {}
    ids = [m.pk for m in messages]
    if ids:
        for row in Attachment.objects.filter(message_id__in=ids).order_by("id"):
            by_message.setdefault(row.message_id, []).append(row)
    for m in messages:
        m.files = by_message.get(m.pk, [])
    return messages


def channel_page(
    channel: Channel, *, before: int | None = None, size: int = PAGE_SIZE
) -> MessagePage:
    """The newest ``size`` messages of ``channel`` (before the id ``before``): one range
    of the (channel, id) index read backwards."""
    qs = Message.objects.filter(channel=channel)
    if before is not None:
        qs = qs.filter(id__lt=before)
    rows = list(qs.select_related("author").order_by("-id")[: size + 1])
    page = _with_files(rows[:size])
    page.reverse()
    return MessagePage(messages=page, older=page[0].pk if len(rows) > size else None)


def messages_after(channel: Channel, after: int, *, limit: int = PAGE_SIZE) -> list[Message]:
    """Messages of ``channel`` newer than the id ``after`` (the poll), oldest first."""
    rows = Message.objects.filter(channel=channel, id__gt=after).select_related("author")
    return _with_files(list(rows.order_by("id")[:limit]))


def display_name(user) -> str:
    return user.get_full_name() or user.get_username()


# --- my conversations and unread counts -----------------------------------------------------


@dataclass
class ChannelEntry:
    channel: Channel
    unread: int = 0  # counted up to UNREAD_CAP
    last_read_id: int = 0
    member: bool = False

    @property
    def unread_label(self) -> str:
        return f"{UNREAD_CAP - 1}+" if self.unread >= UNREAD_CAP else str(self.unread)


def my_channels(user: AbstractBaseUser) -> list[ChannelEntry]:
    """The user's conversations (memberships they still read, and their department's
    channels), most recently active first, with bounded unread counts: 2 queries, plus
    one for the counts when something is unread."""
    entries: dict[int, ChannelEntry] = {}
    memberships = (
        Membership.objects.filter(user=user, channel__archived=False)
        .select_related("channel")
        .order_by("-channel__last_message_id")[:CHANNEL_LIST_LIMIT]
    )
    for m in memberships:
        if can_read(user, m.channel, m):
            entries[m.channel_id] = ChannelEntry(
                m.channel, last_read_id=m.last_read_id, member=True
            )
    department_id = department_id_of(user)
    if department_id is not None:
        for channel in Channel.objects.filter(
            kind=ChannelKind.DEPARTMENT, department_id=department_id, archived=False
        ):
            entries.setdefault(channel.pk, ChannelEntry(channel, member=True))
    counts = unread_counts(user, [e for e in entries.values()])
    for e in entries.values():
        e.unread = counts.get(e.channel.pk, 0)
    return sorted(entries.values(), key=lambda e: (-e.channel.last_message_id, e.channel.name))


def unread_counts(user: AbstractBaseUser, entries: list[ChannelEntry]) -> dict[int, int]:
    """Messages of others past each entry's read pointer, counted up to ``UNREAD_CAP``
    per channel, in one statement; channels with nothing new are not counted at all."""
    wanted = [e for e in entries if e.channel.last_message_id > e.last_read_id]
    if not wanted:
        return {}
    parts, params = [], []
    for e in wanted:
        parts.append(
            "SELECT %s, (SELECT COUNT(*) FROM (SELECT 1 FROM chat_message WHERE channel_id = %s"
            " AND id > %s AND author_id <> %s LIMIT %s) AS t)"
        )
        params += [e.channel.pk, e.channel.pk, e.last_read_id, user.pk, UNREAD_CAP]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return {int(cid): int(n) for cid, n in cursor.fetchall() if n}


def public_channels(user: AbstractBaseUser, *, limit: int = CHANNEL_LIST_LIMIT) -> list[Channel]:
    """Public topic channels to join, by name (a city hall has tens, not thousands)."""
    return list(
        Channel.objects.filter(kind=ChannelKind.PUBLIC, archived=False).order_by("name", "id")[
            :limit
        ]
    )


def channel_members(channel: Channel, *, limit: int = 200) -> list:
    """Invited members (private channels, direct messages, guests of a department)."""
    from django.contrib.auth import get_user_model

    return list(
        get_user_model()
        .objects.filter(chat_memberships__channel=channel, chat_memberships__invited=True)
        .order_by("last_name", "first_name", "username")[:limit]
    )


# --- search ---------------------------------------------------------------------------------


@dataclass
class SearchPage:
    messages: list[Message] = field(default_factory=list)  # newest first
    older: int | None = None
    error: str = ""


def _readable_ids(user: AbstractBaseUser) -> list[int]:
    return list(Channel.objects.filter(readable_channels_q(user)).values_list("pk", flat=True))


def _word_ids(words: list[str], limit: int) -> list[int]:
    """SQLite: ids of messages whose folded body holds every word, from the FTS5 trigram
    table alone, at most ``limit``."""
    from cetatea.intranet.chat.search import FTS_TABLE

    if any(not w.isalnum() for w in words):
        raise ValueError("folded words only")
    where = " AND ".join(["body_key LIKE %s"] * len(words))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {where} LIMIT %s",  # noqa: S608 (constants)
            [*(f"%{w}%" for w in words), limit],
        )
        return [row[0] for row in cursor.fetchall()]


def message_search(
    user: AbstractBaseUser, query: str, *, before: int | None = None, size: int = SEARCH_PAGE_SIZE
) -> SearchPage:
    """Messages of the channels ``user`` reads holding every word of ``query`` (folded:
    diacritics and case do not matter), newest first, a page before the id ``before``.

    PostgreSQL chooses between the trigram index and the newest messages by its
    statistics. SQLite has none: the words are first looked up in the FTS5 table (up to
    ``PROBE_LIMIT`` ids); a commoner word walks the messages newest first instead, where
    matches are frequent enough to fill a page soon."""
    access_intranet(user)
    words = list(dict.fromkeys(fold(query).split()))
    long_words = [w for w in words if len(w) >= MIN_SEARCH_WORD]
    if not long_words:
        return SearchPage(
            error=_("Type at least one word of %(n)d letters or more.") % {"n": MIN_SEARCH_WORD}
        )
    channel_ids = _readable_ids(user)
    if not channel_ids:
        return SearchPage()
    qs = Message.objects.filter(deleted_at__isnull=True)
    for word in words:
        qs = qs.filter(body_key__contains=word)
    if connection.vendor == "sqlite":
        # The channel condition never drives the plan: it would sort every message of
        # the person's channels. Either the ids found drive it, or the newest first.
        qs = filter_unindexed(qs, channel_id__in=channel_ids)
        ids = _word_ids(long_words, PROBE_LIMIT + 1)
        if len(ids) <= PROBE_LIMIT:
            if not ids:
                return SearchPage()
            qs = qs.filter(pk__in=ids)
    else:
        qs = qs.filter(channel_id__in=channel_ids)
    if before is not None:
        qs = qs.filter(pk__lt=before)
    rows = list(
        qs.select_related("author", "channel")
        .prefetch_related("attachments")
        .order_by("-id")[: size + 1]
    )
    page = rows[:size]
    return SearchPage(messages=page, older=page[-1].pk if len(rows) > size else None)


# --- the intranet home ----------------------------------------------------------------------


def latest_mentions(user: AbstractBaseUser, *, limit: int = 5) -> list[Mention]:
    """The newest mentions of ``user`` in channels they still read."""
    rows = list(
        Mention.objects.filter(user=user, message__deleted_at__isnull=True)
        .select_related("message__author", "channel")
        .order_by("-message_id")[: limit * 2]
    )
    if not rows:
        return []
    channels = {r.channel_id: r.channel for r in rows}
    memberships = {
        m.channel_id: m for m in Membership.objects.filter(user=user, channel_id__in=channels)
    }
    readable = {cid for cid, c in channels.items() if can_read(user, c, memberships.get(cid))}
    return [r for r in rows if r.channel_id in readable][:limit]


def home_panel(user: AbstractBaseUser) -> dict:
    """The intranet home's messages panel: the total unread, the channels with the most
    unread (top 5) and the latest mentions. A few indexed queries, bounded rows."""
    entries = my_channels(user)
    unread = sorted((e for e in entries if e.unread), key=lambda e: -e.unread)
    total = sum(e.unread for e in unread)
    return {
        "total_unread": total,
        "total_label": f"{UNREAD_CAP - 1}+" if total >= UNREAD_CAP else str(total),
        "channels": unread[:5],
        "more_channels": max(len(unread) - 5, 0),
        "mentions": latest_mentions(user),
    }
