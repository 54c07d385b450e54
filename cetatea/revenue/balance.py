"""What a taxpayer owes on a given day, computed from the imported data and dated rates.

The CONTRACT (field names) below is used by the 360° page, the portal, the PDF
statement and the phone robot; the computation fills it. Amounts are ``Decimal`` lei
with two decimals; late charges and bonuses are rounded to the whole leu (HG 1/2016:
below 50 bani down, from 50 bani up).

How it is computed (docs/revenue.md, "Balance"; research §4.3-4.4, §5.1): the account's
obligations, instalments, fines, payments and the dated rates are read in a fixed number
of queries, then the payments are replayed in date order, each applied in the legal
order of CPF art. 165 on the day it was made:

1. fines in enforceable titles, oldest first, whatever the payer indicated (art. 165(2));
2. the fine the payer named, when it is not an enforceable title yet (a fresh offence
   record paid at the desk, perhaps at half the minimum within 15 days);
3. principal whose term has come (moved to a working day), oldest term first;
4. late-payment charges (accessories), oldest first; a charge is fixed when principal
   paid late is extinguished: 1 % (the rate in force) for each month or part of a month
   from the day after the term to the payment day inclusive, rounded to the whole leu;
5. what is not due yet, as prepayment: the obligation the payer named first, then this
   year's building, land and vehicle taxes while the early-payment bonus is on offer
   (each taken whole, at its amount less the bonus, obligation by obligation), then the
   rest by term;
6. fines that are not enforceable titles yet, oldest first;
7. what is left is credit.

Fines carry no late-payment charges (a decision: CPF art. 183 is about principal fiscal
obligations). The choices the law leaves open are listed in docs/revenue.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.core.workdays import closure_days, local_date, roll_forward
from cetatea.revenue.choices import BONUS_TAX_TYPES, FineStatus, TaxType
from cetatea.revenue.config import LateChargeSchedule
from cetatea.revenue.models import Fine, FiscalYear, Obligation, Payment, TaxpayerAccount
from cetatea.revenue.terms import default_instalments, late_months, round_leu

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
ONE_DAY = dt.timedelta(days=1)
# OG 2/2001 art. 28(1): half of the legal minimum, paid within 15 days of the handing over
# or communication of the offence record (the day itself not counted; a last day that is
# not a working day moves to the next working day).
HALF_OPTION_DAYS = 15
TAX_ORDER = {value: i for i, value in enumerate(TaxType.values)}

# Allocation kinds.
FINE = "fine"
PRINCIPAL = "principal"
LATE_CHARGE = "late_charge"
BONUS = "bonus"
CREDIT = "credit"


@dataclass
class InstalmentBalance:
    seq: int
    due_date: dt.date  # the legal term, rolled to the next working day
    amount: Decimal
    paid: Decimal  # extinguished: by payments and, when granted, the bonus
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
    # While the bonus is on offer for this obligation: what settles it with the bonus,
    # until when (the first term, rolled), and the bonus itself.
    with_bonus: Decimal | None = None
    bonus_until: dt.date | None = None
    bonus: Decimal = ZERO

    @property
    def due_today(self) -> Decimal:
        return self.overdue + self.late_charges

    @property
    def outstanding(self) -> Decimal:
        """Everything still owed on the obligation: principal and late charges."""
        return self.overdue + self.upcoming + self.late_charges


@dataclass
class FineBalance:
    fine: Fine
    paid: Decimal
    outstanding: Decimal  # what is still owed (0 when paid at half within 15 days)
    enforceable: bool  # paid before everything else (CPF art. 165(2))
    paid_at_half: bool  # settled by paying half the legal minimum in time
    half_amount: Decimal | None  # what settles it today, when the half option is open
    half_until: dt.date | None  # the last day of the half option, when open
    # Contested in court: shown, not counted as owed.
    contested: bool = False


@dataclass
class Allocation:
    """Part of a payment applied to a debt, in the legal order.

    The allocations of a payment other than ``bonus`` add up to the payment; a ``bonus``
    allocation records the bonus granted when that payment completed the year's tax."""

    payment: Payment
    amount: Decimal
    kind: str  # "fine", "principal", "late_charge", "bonus", "credit"
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
    upcoming: Decimal  # taxes not due yet (this year's, and later years' already imported)
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


# --- the ledger: state while the payments are replayed -------------------------------------


class _Instalment:
    __slots__ = ("ob", "seq", "due", "amount", "paid", "bonus", "owed", "key")

    def __init__(self, ob: _Obligation, seq: int, due: dt.date, amount: Decimal):
        self.ob = ob
        self.seq = seq
        self.due = due
        self.amount = amount
        self.paid = ZERO
        self.bonus = ZERO
        self.owed = amount  # amount - paid - bonus, kept up to date
        o = ob.obligation
        self.key = (due, o.fiscal_year, TAX_ORDER.get(o.tax_type, 99), o.id, seq)

    def take(self, amount: Decimal) -> None:
        self.paid += amount
        self.owed -= amount


class _Obligation:
    __slots__ = ("obligation", "insts", "total", "bonus", "deadline", "granted", "charges")

    def __init__(self, obligation: Obligation):
        self.obligation = obligation
        self.insts: list[_Instalment] = []
        self.total = ZERO
        self.bonus: Decimal | None = None  # the bonus in lei, when one is configured
        self.deadline: dt.date | None = None  # the first term (rolled), for the bonus
        self.granted = False
        self.charges: list[_Charge] = []

    def paid(self) -> Decimal:
        return sum((i.paid for i in self.insts), ZERO)

    def on_offer(self, day: dt.date) -> bool:
        """The bonus can still be had by paying the rest of the year's tax on ``day``."""
        if self.bonus is None or self.granted or day > self.deadline:
            return False
        owed = False
        for inst in self.insts:
            if inst.owed:
                if inst.due < day:
                    return False
                owed = True
        return owed

    def bonus_target(self) -> Decimal:
        """What is still to pay to have the bonus."""
        return max(self.total - self.bonus - self.paid(), ZERO)


class _Charge:
    """A late-payment charge fixed when late principal was extinguished."""

    __slots__ = ("inst", "fixed_on", "amount", "paid")

    def __init__(self, inst: _Instalment, fixed_on: dt.date, amount: Decimal):
        self.inst = inst
        self.fixed_on = fixed_on
        self.amount = amount
        self.paid = ZERO


class _Fine:
    __slots__ = ("fine", "open", "half", "half_until", "paid", "at_half", "enforceable_since")

    def __init__(self, fine: Fine, closures: frozenset[dt.date]):
        self.fine = fine
        self.open = fine.status == FineStatus.UNPAID
        self.enforceable_since = fine.enforceable_since
        self.half = None
        self.half_until = None
        if fine.half_minimum is not None:
            self.half = min(fine.half_minimum, fine.amount)
            # Without a communication date, the offence record was handed over when made.
            start = fine.communicated_on or fine.issued_on
            self.half_until = roll_forward(start + dt.timedelta(days=HALF_OPTION_DAYS), closures)
        self.paid = ZERO
        self.at_half = False

    def enforceable_on(self, day: dt.date) -> bool:
        return self.enforceable_since is not None and self.enforceable_since <= day

    def half_open_on(self, day: dt.date) -> bool:
        return self.half is not None and not self.at_half and day <= self.half_until

    def target(self, day: dt.date) -> Decimal:
        """What the fine takes from a payment made on ``day``."""
        if self.at_half:
            return ZERO
        if self.half_open_on(day):
            return max(self.half - self.paid, ZERO)
        return max(self.fine.amount - self.paid, ZERO)


class _Ledger:
    """Replays the payments in date order. Settled instalments and charges are dropped from
    the working lists as the replay goes, and a bonus whose term has passed is never
    looked at again (payments come in date order), so a long, mostly paid history costs
    little more than a short one."""

    def __init__(
        self,
        *,
        obligations: list[_Obligation],
        fines: list[_Fine],
        schedule: LateChargeSchedule,
    ):
        self.obligations = obligations
        self.insts = sorted((i for ob in obligations for i in ob.insts), key=lambda i: i.key)
        self.open = [i for i in self.insts if i.owed]
        self.with_bonus = sorted(
            (ob for ob in obligations if ob.bonus is not None), key=lambda ob: ob.deadline
        )
        self.fines = fines
        self.fines_by_id = {f.fine.id: f for f in fines}
        # Enforceable titles are paid in the order they became enforceable.
        self.fines_by_title = sorted(
            (f for f in fines if f.enforceable_since is not None),
            key=lambda f: (f.enforceable_since, f.fine.issued_on, f.fine.id),
        )
        self.schedule = schedule
        self.charges: list[_Charge] = []  # unpaid ones, oldest first
        self.allocations: list[Allocation] = []
        self.credit = ZERO

    def offered(self, day: dt.date) -> list[_Obligation]:
        """The obligations whose bonus is on offer on ``day``."""
        while self.with_bonus and self.with_bonus[0].deadline < day:
            self.with_bonus.pop(0)
        return [ob for ob in self.with_bonus if ob.on_offer(day)]

    # --- one payment, in the legal order ---------------------------------------------------

    def apply(self, payment: Payment) -> None:
        day = payment.paid_on
        left = payment.amount
        for f in self.fines_by_title:
            if not left:
                return
            if f.open and f.enforceable_on(day):
                left = self._pay_fine(payment, f, day, left)
        named_fine = self.fines_by_id.get(payment.fine_id)
        if left and named_fine is not None:
            if named_fine.fine.status == FineStatus.PAID or (
                named_fine.open and not named_fine.enforceable_on(day)
            ):
                left = self._pay_fine(payment, named_fine, day, left)
        if not left:
            return
        self.open = [i for i in self.open if i.owed]
        offered = self.offered(day)
        for inst in self.open:
            if not left or inst.due > day:
                break
            if inst.owed and inst.ob not in offered:
                left = self._pay_principal(payment, inst, day, left)
        for charge in self.charges:
            if not left:
                break
            take = min(left, charge.amount - charge.paid)
            charge.paid += take
            left -= take
            self._allocate(payment, take, LATE_CHARGE, inst=charge.inst)
        self.charges = [c for c in self.charges if c.paid < c.amount]
        if left:
            left = self._prepay(payment, day, left, offered)
        for f in self.fines:
            if not left:
                return
            if f.open and not f.enforceable_on(day):
                left = self._pay_fine(payment, f, day, left)
        if left:
            self.credit += left
            self._allocate(payment, left, CREDIT)

    def _prepay(self, payment: Payment, day: dt.date, left: Decimal, offered: list):
        named = payment.obligation_id
        units = []
        for ob in offered:
            # This year's bonus taxes first, each whole (less the bonus).
            o = ob.obligation
            key = ob.insts[0].key
            group = 0 if o.fiscal_year == day.year else 1
            units.append(((0 if o.id == named else 1, group, *key), ob, None))
        for inst in self.open:
            if inst.due > day and inst.owed and inst.ob not in offered:
                first = 0 if inst.ob.obligation.id == named else 1
                units.append(((first, 1, *inst.key), inst.ob, inst))
        units.sort(key=lambda unit: unit[0])
        for _key, ob, inst in units:
            if not left:
                break
            if inst is not None:
                left = self._pay_principal(payment, inst, day, left)
            else:
                left = self._prepay_with_bonus(payment, ob, left)
        return left

    def _prepay_with_bonus(self, payment: Payment, ob: _Obligation, left: Decimal) -> Decimal:
        take = min(left, ob.bonus_target())
        left -= take
        for inst in ob.insts:
            if not take:
                break
            part = min(take, inst.owed)
            if part:
                inst.take(part)
                take -= part
                self._allocate(payment, part, PRINCIPAL, inst=inst)
        if ob.paid() >= ob.total - ob.bonus:
            # The year's tax paid by the first term, less the bonus: extinguished whole.
            for inst in ob.insts:
                inst.bonus = inst.owed
                inst.owed = ZERO
            ob.granted = True
            granted = sum((i.bonus for i in ob.insts), ZERO)
            self.allocations.append(Allocation(payment, granted, BONUS, ob.obligation))
        return left

    def _pay_principal(self, payment: Payment, inst: _Instalment, day: dt.date, left: Decimal):
        take = min(left, inst.owed)
        inst.take(take)
        self._allocate(payment, take, PRINCIPAL, inst=inst)
        if day > inst.due:
            months = late_months(inst.due, day)
            percent = self.schedule.percent(inst.due + ONE_DAY, months)
            amount = round_leu(take * percent / HUNDRED)
            if amount:
                charge = _Charge(inst, day, amount)
                self.charges.append(charge)
                inst.ob.charges.append(charge)
        return left - take

    def _pay_fine(self, payment: Payment, f: _Fine, day: dt.date, left: Decimal) -> Decimal:
        take = min(left, f.target(day))
        if not take:
            return left
        f.paid += take
        self.allocations.append(Allocation(payment, take, FINE, fine=f.fine))
        if f.half_open_on(day) and f.paid >= f.half:
            f.at_half = True
        return left - take

    def _allocate(self, payment, amount, kind, *, inst: _Instalment | None = None):
        if inst is None:
            self.allocations.append(Allocation(payment, amount, kind))
        else:
            self.allocations.append(
                Allocation(payment, amount, kind, inst.ob.obligation, instalment_seq=inst.seq)
            )

    # --- the state on a day -------------------------------------------------------------------

    def accrued(self, inst: _Instalment, today: dt.date) -> Decimal:
        """Late charges accrued to ``today`` on the instalment's unpaid principal (what
        paying it today would fix)."""
        if not inst.owed or today <= inst.due:
            return ZERO
        percent = self.schedule.percent(inst.due + ONE_DAY, late_months(inst.due, today))
        return round_leu(inst.owed * percent / HUNDRED)


# --- loading ------------------------------------------------------------------------------------

# Four statements whatever the history (and the closure days, from the cache): the
# obligations with their instalments, the fines, the payments, and the three small
# configuration tables in one (all their rows: a few dozen). Written as SQL because
# compiling seven ORM querysets cost more than running them (bench/revenue_balance.py);
# each reads through an index that starts with the account. The import's bookkeeping
# columns (content_hash, created_at, updated_at) are not read: on the rows handed out in
# the balance they are deferred fields (reading one costs a query).
_OBLIGATIONS_SQL = """
    SELECT o.id, o.account_id, o.external_id, o.tax_type, o.fiscal_year, o.subject,
           o.amount, i.seq AS inst_seq, i.due_date AS inst_due, i.amount AS inst_amount
    FROM revenue_obligation o
    LEFT JOIN revenue_instalment i ON i.obligation_id = o.id
    WHERE o.account_id = %s
    ORDER BY o.fiscal_year, o.id, i.seq
"""
_OBLIGATION_FIELDS = [
    "id",
    "account_id",
    "external_id",
    "tax_type",
    "fiscal_year",
    "subject",
    "amount",
]
_FINES_SQL = """
    SELECT id, account_id, external_id, series, number, unique_code, issued_on,
           communicated_on, issuer, legal_basis, amount, half_minimum, enforceable_since,
           status
    FROM revenue_fine
    WHERE account_id = %s AND issued_on <= %s
    ORDER BY issued_on, id
"""
_PAYMENTS_SQL = """
    SELECT id, account_id, external_id, paid_on, amount, method, receipt, obligation_id,
           fine_id
    FROM revenue_payment
    WHERE account_id = %s AND paid_on <= %s
    ORDER BY paid_on, id
"""
_CONFIG_SQL = """
    SELECT 'late', valid_from, NULL, NULL, NULL, percent_per_month
    FROM revenue_latechargerate
    UNION ALL
    SELECT 'year', first_due, second_due, year, NULL, small_tax_limit FROM revenue_fiscalyear
    UNION ALL
    SELECT 'bonus', NULL, NULL, year, tax_type, percent FROM revenue_bonusrate
    WHERE taxpayer_kind = %s
"""
CENT = Decimal("0.01")


def _date(value) -> dt.date:
    # Columns outside a model's fields come as the driver gives them (text on SQLite).
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _decimal(value) -> Decimal:
    return (value if isinstance(value, Decimal) else Decimal(str(value))).quantize(CENT)


def _config(kind: str):
    """The late-charge schedule, the fiscal years' terms and the bonus percentages of the
    taxpayer's kind, read in one statement."""
    late: list[tuple[dt.date, Decimal]] = []
    years: dict[int, FiscalYear] = {}
    bonuses: dict[tuple[int, str], Decimal] = {}
    with connection.cursor() as cursor:
        cursor.execute(_CONFIG_SQL, [kind])
        for what, first, second, year, tax_type, number in cursor.fetchall():
            if what == "late":
                late.append((_date(first), _decimal(number)))
            elif what == "year":
                years[year] = FiscalYear(
                    year=year,
                    first_due=_date(first),
                    second_due=_date(second),
                    small_tax_limit=_decimal(number),
                )
            else:
                bonuses[(year, tax_type)] = _decimal(number)
    return LateChargeSchedule(late), years, bonuses


def _load(account: TaxpayerAccount, today: dt.date, notes: list[str]):
    """Read everything the computation needs and set up the ledger's state."""
    obligations: dict[int, Obligation] = {}
    instalment_rows: list[tuple[int, int, dt.date, Decimal]] = []
    with connection.cursor() as cursor:
        cursor.execute(_OBLIGATIONS_SQL, [account.id])
        for *columns, seq, due, amount in cursor.fetchall():
            obligation_id = columns[0]
            if obligation_id not in obligations:
                columns[-1] = _decimal(columns[-1])
                obligations[obligation_id] = Obligation.from_db(
                    connection.alias, _OBLIGATION_FIELDS, columns
                )
            if seq is not None:
                instalment_rows.append((obligation_id, seq, _date(due), _decimal(amount)))
    fines = list(Fine.objects.raw(_FINES_SQL, [account.id, today]))
    payments = list(Payment.objects.raw(_PAYMENTS_SQL, [account.id, today]))
    schedule, terms, percents = _config(account.kind)

    fines_by_id = {f.id: f for f in fines}
    for row in (*obligations.values(), *fines, *payments):
        row.account = account  # the callers read it; no query per row
    for payment in payments:
        if payment.obligation_id in obligations:
            payment.obligation = obligations[payment.obligation_id]
        if payment.fine_id in fines_by_id:
            payment.fine = fines_by_id[payment.fine_id]

    closures = closure_days()
    rolled: dict[dt.date, dt.date] = {}

    def roll(day: dt.date) -> dt.date:
        if day not in rolled:
            rolled[day] = roll_forward(day, closures)
        return rolled[day]

    states = {o.id: _Obligation(o) for o in obligations.values()}
    for obligation_id, seq, due, amount in instalment_rows:
        ob = states[obligation_id]
        ob.insts.append(_Instalment(ob, seq, roll(due), amount))

    kept = []
    for ob in states.values():
        o = ob.obligation
        if not ob.insts:
            # Imported without instalments: the default ones of the year, when configured.
            if o.fiscal_year not in terms:
                notes.append(
                    _(
                        "%(obligation)s has no instalments and its year has no payment terms: "
                        "it is left out of the balance."
                    )
                    % {"obligation": o}
                )
                continue
            for seq, due, amount in default_instalments(
                tax_type=o.tax_type, amount=o.amount, terms=terms[o.fiscal_year]
            ):
                ob.insts.append(_Instalment(ob, seq, roll(due), amount))
        ob.total = sum((i.amount for i in ob.insts), ZERO)
        percent = percents.get((o.fiscal_year, o.tax_type))
        if percent and o.tax_type in BONUS_TAX_TYPES:
            bonus = round_leu(ob.total * percent / HUNDRED)
            if bonus:
                ob.bonus = bonus
                year = terms.get(o.fiscal_year)
                ob.deadline = roll(year.first_due) if year else min(i.due for i in ob.insts)
        kept.append(ob)
    fine_states = [_Fine(f, closures) for f in fines]
    return kept, fine_states, payments, schedule


# --- the balance ------------------------------------------------------------------------------


def account_balance(account: TaxpayerAccount, *, today: dt.date | None = None) -> Balance:
    """The balance of ``account`` on ``today`` (the local date now by default)."""
    if today is None:
        today = local_date(timezone.now())
    notes: list[str] = []
    obligations, fines, payments, schedule = _load(account, today, notes)
    ledger = _Ledger(obligations=obligations, fines=fines, schedule=schedule)
    for payment in payments:
        ledger.apply(payment)

    ob_balances = [_obligation_balance(ledger, ob, today) for ob in obligations]
    fine_balances = [_fine_balance(f, today) for f in fines]

    overdue = sum((b.overdue for b in ob_balances), ZERO)
    late = sum((b.late_charges for b in ob_balances), ZERO)
    fines_due = sum(
        (b.outstanding for b in fine_balances if b.fine.status == FineStatus.UNPAID), ZERO
    )
    upcoming = sum((b.upcoming for b in ob_balances), ZERO)
    due_today = overdue + late + fines_due
    next_dates = [b.next_due_date for b in ob_balances if b.next_due_date is not None]
    next_due = min(next_dates) if next_dates else None
    next_amount = sum((b.next_due_amount for b in ob_balances if b.next_due_date == next_due), ZERO)

    # The bonus of this year, when still on offer: what a payment made today must cover
    # first (enforceable fines, principal whose term has come, late charges), then each
    # bonus tax less its bonus.
    on_offer = [ob for ob in obligations if ob.on_offer(today)]
    offered = [ob for ob in on_offer if ob.obligation.fiscal_year == today.year]
    with_bonus_total = bonus_until = None
    bonus_saving = ZERO
    if offered:
        first = sum((f.target(today) for f in fines if f.open and f.enforceable_on(today)), ZERO)
        first += sum(
            (i.owed for i in ledger.insts if i.due <= today and i.ob not in on_offer), ZERO
        )
        first += late
        with_bonus_total = first + sum((ob.bonus_target() for ob in offered), ZERO)
        bonus_saving = sum((ob.bonus for ob in offered), ZERO)
        bonus_until = min(ob.deadline for ob in offered)
        if first:
            notes.append(
                _(
                    "The money paid goes first to fines and arrears: the amount to pay with "
                    "the bonus includes them."
                )
            )

    if schedule.uncovered and schedule.first_date is None:
        notes.append(_("No late-payment charge rate is configured: no charges are computed."))
    elif schedule.uncovered:
        notes.append(
            _(
                "No late-payment charge rate is configured before %(date)s: no charges are "
                "computed for earlier months."
            )
            % {"date": schedule.first_date.strftime("%d.%m.%Y")}
        )
    if any(b.contested for b in fine_balances):
        notes.append(_("A contested fine is shown but is not owed until the court decides."))
    notes.append(
        _(
            "By law a payment goes first to fines in enforceable titles, then to the oldest "
            "taxes, then to late-payment charges, whatever the payer indicates "
            "(Fiscal Procedure Code art. 165)."
        )
    )
    notes.append(_("Only fines registered with the local revenue office are shown."))

    return Balance(
        account=account,
        today=today,
        obligations=ob_balances,
        fines=fine_balances,
        allocations=ledger.allocations,
        overdue_principal=overdue,
        late_charges=late,
        fines_due=fines_due,
        due_today=due_today,
        upcoming=upcoming,
        total=due_today + upcoming,
        next_due_date=next_due,
        next_due_amount=next_amount,
        with_bonus_total=with_bonus_total,
        bonus_until=bonus_until,
        bonus_saving=bonus_saving,
        credit=ledger.credit,
        notes=notes,
    )


def _obligation_balance(ledger: _Ledger, ob: _Obligation, today: dt.date) -> ObligationBalance:
    instalments = []
    overdue = upcoming = accrued = paid = granted = ZERO
    next_date = None
    next_amount = ZERO
    for inst in ob.insts:
        owed = inst.owed
        late = owed > 0 and inst.due < today
        if late:
            overdue += owed
            accrued += ledger.accrued(inst, today)
        elif owed:
            upcoming += owed
            if next_date is None or inst.due < next_date:
                next_date, next_amount = inst.due, owed
            elif inst.due == next_date:
                next_amount += owed
        paid += inst.paid + inst.bonus
        granted += inst.bonus
        instalments.append(
            InstalmentBalance(
                seq=inst.seq,
                due_date=inst.due,
                amount=inst.amount,
                paid=inst.paid + inst.bonus,
                outstanding=owed,
                overdue=late,
            )
        )
    fixed_owed = charges_paid = ZERO
    for charge in ob.charges:
        fixed_owed += charge.amount - charge.paid
        charges_paid += charge.paid
    on_offer = ob.on_offer(today)
    return ObligationBalance(
        obligation=ob.obligation,
        instalments=instalments,
        paid=paid,
        bonus_granted=granted,
        overdue=overdue,
        upcoming=upcoming,
        late_charges=fixed_owed + accrued,
        late_charges_paid=charges_paid,
        next_due_date=next_date,
        next_due_amount=next_amount,
        with_bonus=ob.bonus_target() if on_offer else None,
        bonus_until=ob.deadline if on_offer else None,
        bonus=ob.bonus if on_offer else ZERO,
    )


def _fine_balance(f: _Fine, today: dt.date) -> FineBalance:
    fine = f.fine
    contested = fine.status == FineStatus.CONTESTED
    if fine.status in (FineStatus.PAID, FineStatus.CANCELLED) or f.at_half:
        outstanding = ZERO
    else:
        outstanding = max(fine.amount - f.paid, ZERO)
    half_open = f.open and outstanding > 0 and f.half_open_on(today)
    return FineBalance(
        fine=fine,
        paid=f.paid,
        outstanding=outstanding,
        enforceable=f.open and f.enforceable_on(today),
        paid_at_half=f.at_half,
        half_amount=f.target(today) if half_open else None,
        half_until=f.half_until if half_open else None,
        contested=contested,
    )
