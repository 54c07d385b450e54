"""The e-mail a person gets when the phone robot locks one of their identities.

Sent to the person's e-mail contact point (the primary one first), in Romanian then
English, once the transaction that wrote the lock commits. It goes through the
background worker (``portal.mail.send_templated_mail``), not from the call: a slow mail
server must not leave a caller in silence. It names no identity and no number: whoever
reads it learns only that the access was locked and how to lift it.
"""

from __future__ import annotations

from django.db import transaction

from cetatea.people.choices import ContactKind
from cetatea.people.models import ContactPoint
from cetatea.portal.mail import send_templated_mail

TEMPLATE = "telephony/email/robot_locked.txt"


def lock_notice_send(*, person_id: int) -> bool:
    """Queue the lock e-mail for ``person_id`` on commit; False when they have no e-mail."""
    to = (
        ContactPoint.objects.filter(person_id=person_id, kind=ContactKind.EMAIL)
        .order_by("-is_primary", "id")
        .values_list("value", flat=True)
        .first()
    )
    if not to:
        return False
    transaction.on_commit(lambda: send_templated_mail.enqueue(TEMPLATE, to, {}))
    return True
