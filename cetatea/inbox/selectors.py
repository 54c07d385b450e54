"""Reads for e-mail in: who wrote, which case a subject names, the log of messages."""

from __future__ import annotations

from dataclasses import dataclass

from cetatea.cases.models import Case
from cetatea.inbox.models import InboundMessage
from cetatea.inbox.parsing import references_in
from cetatea.people.choices import ContactKind
from cetatea.people.models import ContactPoint, Person

MAX_PAGES = 200  # past that, narrow by outcome: no page reads more than it shows


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
    page: int
    has_next: bool


def inbound_message_list(*, outcome: str = "", page: int = 1, page_size: int = 25) -> MessagePage:
    """Newest first, one page (read through the received-at indexes)."""
    page = max(1, min(page, MAX_PAGES))
    qs = InboundMessage.objects.select_related("case").order_by("-received_at", "-id")
    if outcome:
        qs = qs.filter(outcome=outcome)
    offset = (page - 1) * page_size
    rows = list(qs[offset : offset + page_size + 1])
    return MessagePage(
        messages=rows[:page_size], page=page, has_next=len(rows) > page_size and page < MAX_PAGES
    )
