"""Rows of every kind linked to a person, for the export and erasure tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone


def rich_person(citizen, registry=None):
    """Give the citizen a registry entry (answered), a paid tax account, a call, a robot
    call, a PIN, a portal account, an alert subscription, a "me too" and an e-mail."""
    from cetatea.inbox.models import InboundMessage
    from cetatea.notify.models import Preference
    from cetatea.portal.models import CitizenAccount, Subscription, Supporter
    from cetatea.revenue.models import TaxpayerAccount
    from cetatea.telephony.models import Call, RobotCall, RobotPin

    person, case = citizen["person"], citizen["case"]
    now = timezone.now()
    out = dict(citizen)
    if registry is not None:
        from cetatea.registry.services import registry_entry_register

        entry = registry_entry_register(
            point=registry["points"]["rg"],
            doc_type=registry["types"]["cerere"],
            summary="Cerere certificat fiscal",
            sender_name="Popescu Ion",
            sender_address="Strada Trandafirilor 3",
            person=person,
        )
        type(entry).objects.filter(pk=entry.pk).update(status="answered")
        out["entry"] = entry
    out["account"] = TaxpayerAccount.objects.create(
        external_id="R000777", person=person, name="Popescu Ion", address="Str. Trandafirilor 3"
    )
    out["call"] = Call.objects.create(
        call_id="call-1", from_number="+40722123456", to_number="100", started_at=now, person=person
    )
    out["robot_call"] = RobotCall.objects.create(
        call_id="robot-1",
        transport="sip",
        caller_hash="abc",
        started_at=now,
        person=person,
        identified=True,
        options=["taxes"],
        outcome="done",
        state={"expect": "menu", "person_id": person.pk},
    )
    out["pin"] = RobotPin.objects.create(person=person, pin_hash="x", issued_at=now)
    user = User.objects.create_user(
        username="ion.popescu@example.ro", email="ion.popescu@example.ro"
    )
    out["account_user"] = user
    out["portal"] = CitizenAccount.objects.create(
        user=user, person=person, email="ion.popescu@example.ro"
    )
    out["subscription"] = Subscription.objects.create(
        email="ion.popescu@example.ro", kind="case", case=case, confirmed_at=now
    )
    out["supporter"] = Supporter.objects.create(case=case, email="ion.popescu@example.ro")
    out["inbound"] = InboundMessage.objects.create(
        message_id="<m1@example.ro>",
        source="imap",
        from_address="ion.popescu@example.ro",
        from_name="Ion Popescu",
        subject="Groapă",
        outcome="created",
        case=case,
        received_at=now - dt.timedelta(days=1),
    )
    Preference.objects.create(person=person, language="en")
    out["money"] = Decimal("0")
    return out
