"""Reads for e-mail in: who wrote, which case a subject names, the log of messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.dateparse import parse_datetime

from cetatea.cases.models import Case
from cetatea.inbox.models import InboundMessage
from cetatea.inbox.parsing import references_in
from cetatea.people.choices import ContactKind
from cetatea.people.models import ContactPoint, Person


def person_for_email(address: str) -> Person | None:
    """The one active person with this e-mail address; none if nobody or several have it."""
    if not address:
        return None
    ids = list(
        ContactPoint.objects.filter(
            kind=ContactKind.EMAIL, value=address, person__merged_into__isnull=True
        )
        .values_list("person_id", flat=True)
        .distinct()[:2]
    )
    if len(ids) != 1:
        return None
    return Person.objects.get(pk=ids[0])


def case_named_in(text: str) -> Case | None:
    """The first existing case whose reference is written in ``text`` (merged: its survivor)."""
    references = references_in(text)
    if not references:
        return None
    by_reference = {c.reference: c for c in Case.objects.filter(reference__in=references)}
    for reference in references:
        case = by_reference.get(reference)
        if case is not None:
            hops = 0
            while case.merged_into_id and hops < 10:
                case = case.merged_into
                hops += 1
            return case
    return None


def inbound_message_seen(message_id: str) -> InboundMessage | None:
    return InboundMessage.objects.filter(message_id=message_id).first()


@dataclass
class MessagePage:
    messages: list[InboundMessage]
    next_cursor: str = ""


def _cursor(message: InboundMessage) -> str:
    return f"{message.received_at.isoformat()}|{message.pk}"


def _parse_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    at_s, _sep, id_s = cursor.partition("|")
    at = parse_datetime(at_s) if at_s else None
    if at is None or at.tzinfo is None or not id_s.isdigit():
        return None
    return at, int(id_s)


def inbound_message_list(
    *, outcome: str = "", cursor: str = "", page_size: int = 25
) -> MessagePage:
    """The log of inbound e-mail, newest first, keyset-paginated.

    The cursor is the last row's (received_at, id). A page is one range read of
    ``inbound_received_idx`` (or ``inbound_outcome_idx`` for one outcome) stopped after
    ``page_size + 1`` rows: the thousandth page costs what the first does, whatever the
    size of the log. An unreadable cursor starts from the newest.
    """
    qs = InboundMessage.objects.select_related("case").order_by("-received_at", "-id")
    if outcome:
        qs = qs.filter(outcome=outcome)
    after = _parse_cursor(cursor) if cursor else None
    if after is not None:
        at, last_id = after
        # "received_at <= at" is the index range; the tie on the same instant is cut by id.
        qs = qs.filter(received_at__lte=at).exclude(received_at=at, id__gte=last_id)
    rows = list(qs[: page_size + 1])
    page = rows[:page_size]
    return MessagePage(
        messages=page, next_cursor=_cursor(page[-1]) if len(rows) > page_size else ""
    )


def inbound_message_get(message_id: int) -> InboundMessage | None:
    """One logged message with its case, for the detail page."""
    return InboundMessage.objects.select_related("case").filter(pk=message_id).first()
