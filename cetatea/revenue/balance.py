"""What a taxpayer owes on a given day, computed from the imported data and dated rates.

The CONTRACT (field names) below is used by the 360° page, the portal, the PDF
statement and the phone robot; the computation fills it. Amounts are ``Decimal`` lei
with two decimals; late charges are rounded to the whole leu (HG 1/2016: below 50 bani
down, from 50 bani up).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from cetatea.revenue.models import Fine, Obligation, Payment, TaxpayerAccount

ZERO = Decimal("0.00")


@dataclass
class InstalmentBalance:
    seq: int
    due_date: dt.date  # the legal term, rolled to the next working day
    amount: Decimal
    paid: Decimal
    outstanding: Decimal
    overdue: bool  # the term has passed and something is still owed


@dataclass
class ObligationBalance:
    obligation: Obligation
    instalments: list[InstalmentBalance]
    paid: Decimal  # principal extinguished (payments and the bonus)
    bonus_granted: Decimal  # bonus obtained by paying the whole year by the first term
    overdue: Decimal  # principal past its term, unpaid today
    upcoming: Decimal  # principal not due yet
    late_charges: Decimal  # late-payment charges still owed today (whole lei)
    late_charges_paid: Decimal
    next_due_date: dt.date | None
    next_due_amount: Decimal

    @property
    def due_today(self) -> Decimal:
        return self.overdue + self.late_charges


@dataclass
class FineBalance:
    fine: Fine
    paid: Decimal
    outstanding: Decimal  # what is still owed (0 when paid at half within 15 days)
    enforceable: bool  # paid before everything else (CPF art. 165(2))
    paid_at_half: bool  # settled by paying half the legal minimum in time
    half_amount: Decimal | None  # what settles it today, when the half option is open
    half_until: dt.date | None  # the last day of the half option, when open


@dataclass
class Allocation:
    """Part of a payment applied to a debt, in the legal order."""

    payment: Payment
    amount: Decimal
    kind: str  # "fine", "principal", "late_charge", "bonus"... "credit"
    obligation: Obligation | None = None
    instalment_seq: int | None = None
    fine: Fine | None = None


@dataclass
class Balance:
    account: TaxpayerAccount
    today: dt.date
    obligations: list[ObligationBalance]
    fines: list[FineBalance]
    allocations: list[Allocation]
    overdue_principal: Decimal  # taxes past their term
    late_charges: Decimal
    fines_due: Decimal
    due_today: Decimal  # overdue_principal + late_charges + fines_due
    upcoming: Decimal  # taxes not due yet this year
    total: Decimal  # due_today + upcoming
    next_due_date: dt.date | None
    next_due_amount: Decimal
    # Paying this much by ``bonus_until`` settles the year's bonus taxes with the bonus
    # (after fines and arrears, which the money goes to first); None when not on offer.
    with_bonus_total: Decimal | None
    bonus_until: dt.date | None
    bonus_saving: Decimal
    credit: Decimal  # paid and not owed anywhere (an overpayment)
    notes: list[str] = field(default_factory=list)  # translated warnings for the reader


def account_balance(account: TaxpayerAccount, *, today: dt.date | None = None) -> Balance:
    """The balance of ``account`` on ``today`` (the local date now by default)."""
    raise NotImplementedError
