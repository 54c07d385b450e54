"""The robot's reads (what a caller owes, their petitions) and writes (the call record).

Every call is a `RobotCall` (the KPI record: identified, transferred, options,
outcome, duration); a call whose caller was identified is also an Interaction on
their timeline. Unidentified calls stay out of the timelines (nobody to put them on).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from cetatea.cases.choices import Channel, Handler
from cetatea.cases.models import Interaction
from cetatea.cases.services import interaction_log
from cetatea.people.models import Person
from cetatea.registry.models import Entry
from cetatea.revenue.balance import ZERO, account_balance
from cetatea.revenue.choices import FineStatus
from cetatea.revenue.models import TaxpayerAccount
from cetatea.telephony.models import RobotCall
from cetatea.telephony.robot.identity import caller_hash


@dataclass
class TaxSummary:
    due_today: Decimal
    late_charges: Decimal
    by_type: dict[str, Decimal]  # due today per tax type
    next_due_date: dt.date | None
    next_due_amount: Decimal
    accounts: int


@dataclass
class FineSummary:
    count: int
    total: Decimal
    items: list[tuple[dt.date, Decimal]]  # by date of the offence record, oldest first


def _balances(person_id: int):
    accounts = TaxpayerAccount.objects.filter(person_id=person_id).order_by("id")
    return [account_balance(account) for account in accounts]


def taxes_owed(person_id: int) -> TaxSummary:
    """Taxes (not fines) over all of the person's taxpayer accounts."""
    balances = _balances(person_id)
    by_type: dict[str, Decimal] = {}
    next_date, next_amount = None, ZERO
    for balance in balances:
        for ob in balance.obligations:
            if ob.due_today:
                tax = ob.obligation.tax_type
                by_type[tax] = by_type.get(tax, ZERO) + ob.due_today
        if balance.next_due_date is not None:
            if next_date is None or balance.next_due_date < next_date:
                next_date, next_amount = balance.next_due_date, balance.next_due_amount
            elif balance.next_due_date == next_date:
                next_amount += balance.next_due_amount
    return TaxSummary(
        due_today=sum((b.overdue_principal + b.late_charges for b in balances), ZERO),
        late_charges=sum((b.late_charges for b in balances), ZERO),
        by_type=by_type,
        next_due_date=next_date,
        next_due_amount=next_amount,
        accounts=len(balances),
    )


def fines_unpaid(person_id: int) -> FineSummary:
    items = []
    for balance in _balances(person_id):
        for fb in balance.fines:
            if fb.fine.status == FineStatus.UNPAID and fb.outstanding > 0:
                items.append((fb.fine.issued_on, fb.outstanding))
    items.sort()
    return FineSummary(len(items), sum((a for _, a in items), ZERO), items)


def petition_for(person_id: int, number: int) -> Entry | None:
    """The caller's own registry entry with that number, the most recent first."""
    return (
        Entry.objects.filter(person_id=person_id, number=number)
        .select_related("department", "book")
        .order_by("-registered_at", "-id")
        .first()
    )


def robot_call_start(*, call_id: str, transport: str, caller: str) -> RobotCall:
    call, _ = RobotCall.objects.get_or_create(
        call_id=call_id[:250],
        defaults={
            "transport": transport[:20],
            "caller_hash": caller_hash(caller),
            "started_at": timezone.now(),
        },
    )
    return call


def _summary(call: RobotCall) -> str:
    options = ", ".join(call.options) or "none"
    return f"Phone robot call: options {options}; outcome {call.outcome}."


def robot_call_end(*, call: RobotCall, outcome: str) -> RobotCall:
    """Close the call record and, for an identified caller, log it on their timeline."""
    if call.ended_at is not None:
        return call
    now = timezone.now()
    call.ended_at = now
    call.duration_seconds = max(0, int((now - call.started_at).total_seconds()))
    call.outcome = outcome[:30]
    call.state = {}
    with transaction.atomic():
        if call.person_id is not None and call.identified:
            call.interaction = interaction_log(
                channel=Channel.ROBOT,
                person=Person.objects.get(pk=call.person_id),
                handler=Handler.ROBOT,
                summary=_summary(call),
                occurred_at=call.started_at,
                duration_seconds=call.duration_seconds,
                external_id=f"robot:{call.call_id}"[:200],
            )
        call.save(
            update_fields=[
                "ended_at",
                "duration_seconds",
                "outcome",
                "state",
                "interaction",
                "person",
                "identified",
                "transferred",
                "options",
                "language",
            ]
        )
    return call


def robot_transfer_failed(*, call: RobotCall) -> RobotCall:
    """No operator took the caller the robot handed over: the call was not transferred.

    The call was closed when the robot began the transfer; its outcome, and the summary
    on the caller's timeline, are corrected (no other call takes it over afterwards).
    """
    call.transferred = False
    call.outcome = "transfer_failed"
    with transaction.atomic():
        call.save(update_fields=["transferred", "outcome"])
        if call.interaction_id is not None:
            Interaction.objects.filter(pk=call.interaction_id).update(summary=_summary(call))
    return call
