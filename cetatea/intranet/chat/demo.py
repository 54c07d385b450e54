"""Demo messages for ``make run``: the department channels and a few conversations."""

from __future__ import annotations

from cetatea.intranet.chat.choices import ChannelKind
from cetatea.intranet.chat.models import Channel, Message
from cetatea.intranet.chat.services import chat_department_channels, chat_direct_open, chat_post


def seed_chat_demo(users: dict) -> None:
    """One channel per department, a short exchange in the roads department's and a
    direct message between the operator and the registry clerk (once)."""
    chat_department_channels()
    if Message.objects.exists():
        return
    staff, crew = users.get("staff"), users.get("crew")
    roads = Channel.objects.filter(
        kind=ChannelKind.DEPARTMENT, department__code="drumuri-utilitati"
    ).first()
    if roads is not None and staff is not None and crew is not None:
        chat_post(
            actor=staff,
            channel_id=roads.pk,
            body="Bună dimineața! Azi începem plombarea pe Bulevardul Transilvania, "
            "tronsonul dintre sensul giratoriu și Piața Iuliu Maniu.",
        )
        chat_post(
            actor=staff,
            channel_id=roads.pk,
            body="@crew vă rog o poză înainte și după la fiecare groapă, pentru sesizări.",
        )
        chat_post(actor=crew, channel_id=roads.pk, body="Am înțeles, plecăm la 8:30.")
    operator, clerk = users.get("operator"), users.get("clerk")
    if operator is not None and clerk is not None:
        direct = chat_direct_open(actor=operator, user_ids=[clerk.pk])
        chat_post(
            actor=operator,
            channel_id=direct.pk,
            body="Rodica, un cetățean întreabă de petiția depusă ieri la ghișeu. "
            "Poți verifica dacă a fost repartizată?",
        )
