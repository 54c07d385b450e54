"""The balance against worked examples computed by hand.

Every expected figure below was worked out on paper from the rules (research §4.2-4.4,
§5.1; docs/revenue.md, "Balance") and written in the comment above the assertions; the
code is not asked what the answer is. Calendar facts used (checked on a calendar):
31.03.2023 Friday, 30.09.2023 Saturday (-> Monday 02.10.2023), 31.03.2024 Sunday
(-> Monday 01.04.2024), 30.09.2024 Monday, 10.03.2025 Monday, 15.03.2025 Saturday,
25.03.2025 Tuesday, 30.03.2025 Sunday, 31.03.2025 Monday, 30.09.2025 Tuesday.

Configuration of these tests (the ``rates`` fixture): late-payment charges 1 % a month
from 01.01.2016; terms 31 March / 30 September and the 50 lei limit for 2015-2027; the
bonus 10 % for natural persons and 5 % for legal persons on building, land and vehicle
taxes in 2025 and 2026 only (2024 has no bonus configured).
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cetatea.revenue.balance import BONUS, CREDIT, FINE, LATE_CHARGE, PRINCIPAL, account_balance
from cetatea.revenue.choices import BONUS_TAX_TYPES, FineStatus, TaxpayerKind, TaxType
from cetatea.revenue.models import (
    BonusRate,
    Fine,
    FiscalYear,
    Instalment,
    LateChargeRate,
    Obligation,
    Payment,
    TaxpayerAccount,
)
from cetatea.revenue.terms import default_instalments, late_months
from conftest import make_person

D = Decimal
_ids = itertools.count(1)


# --- data ----------------------------------------------------------------------------------


@pytest.fixture
def rates(db):
    LateChargeRate.objects.create(
        valid_from=date(2016, 1, 1), percent_per_month=D("1.00"), legal_basis="CPF art. 183(2)"
    )
    for year in range(2015, 2028):
        FiscalYear.objects.create(
            year=year,
            first_due=date(year, 3, 31),
            second_due=date(year, 9, 30),
            small_tax_limit=D("50.00"),
        )
    for year in (2025, 2026):
        for tax_type in BONUS_TAX_TYPES:
            BonusRate.objects.create(
                year=year, tax_type=tax_type, taxpayer_kind=TaxpayerKind.INDIVIDUAL, percent=10
            )
            BonusRate.objects.create(
                year=year, tax_type=tax_type, taxpayer_kind=TaxpayerKind.COMPANY, percent=5
            )


def make_account(kind: str = TaxpayerKind.INDIVIDUAL) -> TaxpayerAccount:
    n = next(_ids)
    person = make_person(
        last_name=f"Contribuabil{n}",
        kind="individual" if kind == TaxpayerKind.INDIVIDUAL else "organisation",
    )
    return TaxpayerAccount.objects.create(
        external_id=f"R{n:06d}", person=person, kind=kind, name=f"Contribuabil {n}"
    )


def make_tax(account, year: int, tax_type: str, *instalments: tuple[date, str]) -> Obligation:
    """An obligation with the given instalments (legal due date, amount)."""
    n = next(_ids)
    obligation = Obligation.objects.create(
        account=account,
        external_id=f"OB{n}",
        tax_type=tax_type,
        fiscal_year=year,
        amount=sum(D(a) for _d, a in instalments),
    )
    Instalment.objects.bulk_create(
        Instalment(obligation=obligation, seq=seq, due_date=due, amount=D(amount))
        for seq, (due, amount) in enumerate(instalments, start=1)
    )
    return obligation


def make_yearly(account, year: int, tax_type: str, amount: str) -> Obligation:
    """An obligation with the year's default instalments (``terms.default_instalments``)."""
    terms = FiscalYear.objects.get(year=year)
    return make_tax(
        account,
        year,
        tax_type,
        *[
            (due, str(part))
            for _seq, due, part in default_instalments(
                tax_type=tax_type, amount=D(amount), terms=terms
            )
        ],
    )


def make_fine(account, amount: str, issued_on: date, **extra) -> Fine:
    n = next(_ids)
    for key in ("half_minimum",):
        if extra.get(key) is not None:
            extra[key] = D(extra[key])
    return Fine.objects.create(
        account=account,
        external_id=f"F{n}",
        series="AB",
        number=str(100000 + n),
        issued_on=issued_on,
        issuer="Poliția Locală Alba Iulia",
        amount=D(amount),
        **extra,
    )


def pay(account, day: date, amount: str, *, obligation=None, fine=None) -> Payment:
    n = next(_ids)
    return Payment.objects.create(
        account=account,
        external_id=f"P{n}",
        paid_on=day,
        amount=D(amount),
        obligation=obligation,
        fine=fine,
    )


def of(balance, obligation):
    return next(b for b in balance.obligations if b.obligation.id == obligation.id)


def fine_of(balance, fine):
    return next(b for b in balance.fines if b.fine.id == fine.id)


def allocations(balance, payment=None):
    """(kind, amount, fiscal year or fine number, instalment) of each allocation."""
    return [
        (
            a.kind,
            a.amount,
            a.obligation.fiscal_year if a.obligation else (a.fine.number if a.fine else None),
            a.instalment_seq,
        )
        for a in balance.allocations
        if payment is None or a.payment.id == payment.id
    ]


# --- the months of delay ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "paid_on", "months"),
    [
        # Term 31.03: the charge starts on 01.04; every month begun counts whole.
        (date(2025, 3, 31), date(2025, 3, 31), 0),
        (date(2025, 3, 31), date(2025, 4, 1), 1),
        (date(2025, 3, 31), date(2025, 4, 30), 1),
        (date(2025, 3, 31), date(2025, 5, 1), 2),
        (date(2025, 3, 31), date(2026, 3, 31), 12),
        (date(2025, 3, 31), date(2026, 4, 30), 13),
        # A term moved to Monday 01.04.2024: months begin on the 2nd.
        (date(2024, 4, 1), date(2024, 5, 1), 1),
        (date(2024, 4, 1), date(2024, 5, 2), 2),
    ],
)
def test_late_months_count_each_month_or_part_of_one(due, paid_on, months):
    assert late_months(due, paid_on) == months


# --- the early-payment bonus --------------------------------------------------------------------


def test_bonus_paid_whole_by_31_march_extinguishes_the_tax_with_10_percent_off(rates):
    # Building tax 2025 of a natural person: 1,000.00 lei, 500.00 by Monday 31.03.2025 and
    # 500.00 by Tuesday 30.09.2025. Bonus 10 % = 100.00, so 900.00 by 31.03 settles it.
    account = make_account()
    building = make_yearly(account, 2025, TaxType.BUILDING, "1000.00")

    # On 10.03.2025, nothing paid: 1,000.00 not due yet, the next term 31.03 for 500.00,
    # and 900.00 until 31.03 with the bonus (saving 100.00).
    before = account_balance(account, today=date(2025, 3, 10))
    assert before.upcoming == D("1000.00")
    assert before.due_today == D("0.00")
    assert before.total == D("1000.00")
    assert (before.next_due_date, before.next_due_amount) == (date(2025, 3, 31), D("500.00"))
    assert before.with_bonus_total == D("900.00")
    assert before.bonus_until == date(2025, 3, 31)
    assert before.bonus_saving == D("100.00")
    assert of(before, building).with_bonus == D("900.00")

    # 900.00 paid on 20.03.2025: 500.00 to instalment 1, 400.00 to instalment 2, and the
    # bonus of 100.00 extinguishes the rest of instalment 2.
    payment = pay(account, date(2025, 3, 20), "900.00", obligation=building)
    after = account_balance(account, today=date(2025, 4, 1))
    line = of(after, building)
    assert allocations(after, payment) == [
        (PRINCIPAL, D("500.00"), 2025, 1),
        (PRINCIPAL, D("400.00"), 2025, 2),
        (BONUS, D("100.00"), 2025, None),
    ]
    assert line.bonus_granted == D("100.00")
    assert line.paid == D("1000.00")
    assert [(i.paid, i.outstanding) for i in line.instalments] == [
        (D("500.00"), D("0.00")),
        (D("500.00"), D("0.00")),
    ]
    assert after.total == D("0.00")
    assert after.next_due_date is None
    assert after.with_bonus_total is None
    assert after.credit == D("0.00")


def test_bonus_missed_by_one_leu_leaves_the_rest_due_in_september(rates):
    # The same tax; 899.00 paid on the term itself, 31.03.2025: 1 leu short of 900.00.
    account = make_account()
    building = make_yearly(account, 2025, TaxType.BUILDING, "1000.00")
    pay(account, date(2025, 3, 31), "899.00")

    # On 01.04.2025: no bonus; instalment 1 paid (500.00), instalment 2 paid 399.00, so
    # 101.00 is owed by 30.09.2025; nothing is late.
    april = account_balance(account, today=date(2025, 4, 1))
    line = of(april, building)
    assert line.bonus_granted == D("0.00")
    assert [i.outstanding for i in line.instalments] == [D("0.00"), D("101.00")]
    assert april.due_today == D("0.00")
    assert april.upcoming == D("101.00")
    assert (april.next_due_date, april.next_due_amount) == (date(2025, 9, 30), D("101.00"))
    assert april.with_bonus_total is None

    # Unpaid on 01.10.2025: one month begun after 30.09 -> 1 % x 101.00 = 1.01 -> 1.00 lei.
    october = account_balance(account, today=date(2025, 10, 1))
    assert october.overdue_principal == D("101.00")
    assert october.late_charges == D("1.00")
    assert october.due_today == D("102.00")


def test_bonus_missed_because_the_money_went_to_an_older_arrear_first(rates):
    # Building tax 2024: 600.00, 300.00 by 31.03.2024 (Sunday -> Monday 01.04.2024), paid
    # on 25.03.2024, and 300.00 by Monday 30.09.2024, never paid.
    # Building tax 2025: 1,000.00 (500.00 + 500.00), bonus 100.00.
    account = make_account()
    old = make_yearly(account, 2024, TaxType.BUILDING, "600.00")
    building = make_yearly(account, 2025, TaxType.BUILDING, "1000.00")
    pay(account, date(2024, 3, 25), "300.00")

    # On 20.03.2025: the 300.00 of 2024 is late by the months beginning 01.10, 01.11,
    # 01.12.2024, 01.01, 01.02, 01.03.2025 = 6 -> 6 % x 300.00 = 18.00 lei.
    # With the bonus: 300.00 + 18.00 + 900.00 = 1,218.00; due today 318.00.
    before = account_balance(account, today=date(2025, 3, 20))
    assert before.overdue_principal == D("300.00")
    assert before.late_charges == D("18.00")
    assert before.due_today == D("318.00")
    assert before.total == D("1318.00")
    assert before.with_bonus_total == D("1218.00")
    assert before.bonus_saving == D("100.00")
    assert any("goes first to fines and arrears" in note for note in before.notes)

    # The payer pays 900.00 "for the 2025 building tax" that day. The law takes it for the
    # 2024 arrear (300.00, which fixes the 18.00 charge), then the charge (18.00); the
    # 582.00 left (500.00 + 82.00) is less than 900.00: no bonus.
    payment = pay(account, date(2025, 3, 20), "900.00", obligation=building)
    after = account_balance(account, today=date(2025, 4, 1))
    assert allocations(after, payment) == [
        (PRINCIPAL, D("300.00"), 2024, 2),
        (LATE_CHARGE, D("18.00"), 2024, 2),
        (PRINCIPAL, D("500.00"), 2025, 1),
        (PRINCIPAL, D("82.00"), 2025, 2),
    ]
    assert of(after, old).late_charges_paid == D("18.00")
    assert of(after, old).outstanding == D("0.00")
    # 2025: 1,000.00 - 582.00 = 418.00 owed by 30.09.2025.
    assert of(after, building).bonus_granted == D("0.00")
    assert [i.outstanding for i in of(after, building).instalments] == [D("0"), D("418.00")]
    assert after.total == D("418.00")


def test_paying_the_amount_with_bonus_settles_every_bonus_tax(rates):
    # A natural person in 2025: building 1,000.00 (bonus 100.00 -> 900.00), land 200.00
    # (20.00 -> 180.00), vehicle 300.00 (30.00 -> 270.00), and an enforceable fine of
    # 200.00. With the bonus on 20.03.2025: 200.00 + 900.00 + 180.00 + 270.00 = 1,550.00,
    # saving 150.00.
    account = make_account()
    taxes = [
        make_yearly(account, 2025, TaxType.BUILDING, "1000.00"),
        make_yearly(account, 2025, TaxType.LAND, "200.00"),
        make_yearly(account, 2025, TaxType.VEHICLE, "300.00"),
    ]
    make_fine(account, "200.00", date(2025, 1, 2), enforceable_since=date(2025, 2, 3))
    before = account_balance(account, today=date(2025, 3, 20))
    assert before.with_bonus_total == D("1550.00")
    assert before.bonus_saving == D("150.00")

    pay(account, date(2025, 3, 20), "1550.00")
    after = account_balance(account, today=date(2025, 3, 21))
    assert [of(after, t).bonus_granted for t in taxes] == [D("100.00"), D("20.00"), D("30.00")]
    assert after.total == D("0.00")
    assert after.credit == D("0.00")


def test_a_year_with_no_bonus_configured_gives_no_bonus(rates):
    # 2024 has no bonus rate: 1,000.00 building tax; 900.00 paid on 01.03.2024 is only
    # 900.00: instalment 1 (500.00) and 400.00 of instalment 2; 100.00 owed by 30.09.2024.
    account = make_account()
    building = make_yearly(account, 2024, TaxType.BUILDING, "1000.00")
    before = account_balance(account, today=date(2024, 3, 1))
    assert before.with_bonus_total is None
    assert before.bonus_saving == D("0.00")
    pay(account, date(2024, 3, 1), "900.00")
    after = account_balance(account, today=date(2024, 4, 2))
    assert of(after, building).bonus_granted == D("0.00")
    assert after.upcoming == D("100.00")
    assert (after.next_due_date, after.next_due_amount) == (date(2024, 9, 30), D("100.00"))


def test_a_legal_person_gets_the_bonus_of_legal_persons_and_overpays_into_credit(rates):
    # A company's building tax 2025: 1,000.00; legal persons' bonus 5 % = 50.00. It pays the
    # full 1,000.00 on 01.03.2025: 950.00 extinguishes the year with the bonus of 50.00;
    # the other 50.00 is owed nowhere: credit.
    account = make_account(TaxpayerKind.COMPANY)
    building = make_yearly(account, 2025, TaxType.BUILDING, "1000.00")
    before = account_balance(account, today=date(2025, 3, 1))
    assert before.with_bonus_total == D("950.00")
    pay(account, date(2025, 3, 1), "1000.00")
    after = account_balance(account, today=date(2025, 3, 2))
    assert of(after, building).bonus_granted == D("50.00")
    assert after.total == D("0.00")
    assert after.credit == D("50.00")
    assert allocations(after)[-1] == (CREDIT, D("50.00"), None, None)


def test_an_overpayment_goes_to_a_later_tax_already_known(rates):
    # An advertising tax 2025 of 100.00 (50.00 + 50.00) and a special tax 2026 of 30.00 due
    # 31.03.2026 are on the account; 150.00 paid on 10.02.2025: 50.00 + 50.00 of 2025, then
    # (prepayment by term) 30.00 of 2026; 20.00 left is credit.
    account = make_account()
    make_yearly(account, 2025, TaxType.ADVERTISING, "100.00")
    special = make_tax(account, 2026, TaxType.SPECIAL, (date(2026, 3, 31), "30.00"))
    pay(account, date(2025, 2, 10), "150.00")
    balance = account_balance(account, today=date(2025, 2, 11))
    assert of(balance, special).paid == D("30.00")
    assert balance.total == D("0.00")
    assert balance.credit == D("20.00")


def test_small_tax_is_due_whole_by_the_first_term(rates):
    # Land tax 2025 of 40.00 lei: at most 50 lei, so due whole by 31.03.2025 (Fiscal Code
    # art. 467(3)); the bonus of 10 % is 4.00 -> 36.00 until 31.03.
    account = make_account()
    land = make_yearly(account, 2025, TaxType.LAND, "40.00")
    assert [(i.due_date, i.amount) for i in land.instalments.all()] == [
        (date(2025, 3, 31), D("40.00"))
    ]
    march = account_balance(account, today=date(2025, 3, 1))
    assert (march.next_due_date, march.next_due_amount) == (date(2025, 3, 31), D("40.00"))
    assert march.with_bonus_total == D("36.00")

    # Unpaid on 01.04.2025: 40.00 overdue, 1 month -> 0.40 lei, rounded down to 0.00.
    april = account_balance(account, today=date(2025, 4, 1))
    assert april.overdue_principal == D("40.00")
    assert april.late_charges == D("0.00")
    # On 01.05.2025: 2 months -> 0.80 lei, rounded up to 1.00; due 41.00.
    may = account_balance(account, today=date(2025, 5, 1))
    assert may.late_charges == D("1.00")
    assert may.due_today == D("41.00")


# --- late-payment charges ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paid_on", "charge"),
    [
        # A special tax of 200.00 due Monday 31.03.2025, paid whole on:
        (date(2025, 3, 31), "0.00"),  # the term: 0 months
        (date(2025, 4, 1), "2.00"),  # 1 month x 1 % x 200.00
        (date(2025, 4, 30), "2.00"),  # still the first month
        (date(2025, 5, 1), "4.00"),  # a second month begun: 2 %
        (date(2026, 4, 30), "26.00"),  # 01.04.2025 .. 01.04.2026 begin 13 months: 13 %
    ],
)
def test_late_charge_for_months_or_parts_of_months(rates, paid_on, charge):
    account = make_account()
    special = make_tax(account, 2025, TaxType.SPECIAL, (date(2025, 3, 31), "200.00"))
    pay(account, paid_on, "200.00")
    balance = account_balance(account, today=paid_on)
    # The principal is paid first; the charge it fixed is still owed.
    assert of(balance, special).overdue == D("0.00")
    assert of(balance, special).late_charges == D(charge)
    assert balance.due_today == D(charge)


def test_a_term_on_sunday_moves_to_monday_and_the_months_with_it(rates):
    # Building tax 2024 of a company (no bonus in 2024): 150.00 by 31.03.2024, a Sunday, so
    # by Monday 01.04.2024; charges start on 02.04.2024.
    account = make_account(TaxpayerKind.COMPANY)
    make_yearly(account, 2024, TaxType.BUILDING, "300.00")
    on_term = account_balance(account, today=date(2024, 4, 1))
    assert on_term.obligations[0].instalments[0].due_date == date(2024, 4, 1)
    assert on_term.overdue_principal == D("0.00")
    assert (on_term.next_due_date, on_term.next_due_amount) == (date(2024, 4, 1), D("150.00"))

    # 02.04.2024: 1 month -> 1 % x 150.00 = 1.50, rounded up to 2.00.
    assert account_balance(account, today=date(2024, 4, 2)).late_charges == D("2.00")
    # 01.05.2024 is still in the month begun on 02.04 -> 2.00; 02.05.2024 begins a second
    # month -> 2 % x 150.00 = 3.00.
    assert account_balance(account, today=date(2024, 5, 1)).late_charges == D("2.00")
    assert account_balance(account, today=date(2024, 5, 2)).late_charges == D("3.00")

    # Paid on the moved term itself: no charge.
    pay(account, date(2024, 4, 1), "150.00")
    assert account_balance(account, today=date(2024, 4, 2)).late_charges == D("0.00")


def test_partial_payments_fix_part_of_the_charge(rates):
    # A special tax of 200.00 due 31.03.2025.
    account = make_account()
    special = make_tax(account, 2025, TaxType.SPECIAL, (date(2025, 3, 31), "200.00"))
    # 50.00 paid on 15.04.2025 (1 month): charge on 50.00 = 0.50 -> 1.00 lei (50 bani up).
    pay(account, date(2025, 4, 15), "50.00")
    # On 20.05.2025: 150.00 unpaid for 2 months (begun 01.04 and 01.05): 3.00 accrued, plus
    # the 1.00 fixed and unpaid -> 4.00; due 154.00.
    may = account_balance(account, today=date(2025, 5, 20))
    assert of(may, special).overdue == D("150.00")
    assert of(may, special).late_charges == D("4.00")
    assert may.due_today == D("154.00")

    # 154.00 paid that day: principal 150.00 first (fixing 3.00), then the charges by age:
    # 1.00 (fixed 15.04) and 3.00 (fixed 20.05).
    payment = pay(account, date(2025, 5, 20), "154.00")
    after = account_balance(account, today=date(2025, 5, 21))
    assert allocations(after, payment) == [
        (PRINCIPAL, D("150.00"), 2025, 1),
        (LATE_CHARGE, D("1.00"), 2025, 1),
        (LATE_CHARGE, D("3.00"), 2025, 1),
    ]
    assert after.total == D("0.00")
    assert of(after, special).late_charges_paid == D("4.00")


def test_a_rate_change_between_months_charges_each_month_its_rate(rates):
    # Suppose the rate became 2 % from 01.06.2025. A special tax of 200.00 due 31.03.2025 paid
    # on 15.07.2025: months begin 01.04 (1 %), 01.05 (1 %), 01.06 (2 %), 01.07 (2 %) = 6 %
    # -> 12.00 lei.
    LateChargeRate.objects.create(valid_from=date(2025, 6, 1), percent_per_month=D("2.00"))
    account = make_account()
    make_tax(account, 2025, TaxType.SPECIAL, (date(2025, 3, 31), "200.00"))
    pay(account, date(2025, 7, 15), "200.00")
    assert account_balance(account, today=date(2025, 7, 15)).late_charges == D("12.00")


def test_no_late_charge_rate_configured_charges_nothing_and_says_so(rates):
    LateChargeRate.objects.all().delete()
    account = make_account()
    make_tax(account, 2025, TaxType.SPECIAL, (date(2025, 3, 31), "200.00"))
    balance = account_balance(account, today=date(2025, 6, 1))
    assert balance.overdue_principal == D("200.00")
    assert balance.late_charges == D("0.00")
    assert any("No late-payment charge rate is configured" in n for n in balance.notes)


def test_months_before_the_first_rate_are_not_charged_and_the_note_says_so(rates):
    # A 2015 tax due 31.03.2015, unpaid on 15.01.2016: months begin 01.04 .. 01.12.2015 (no
    # rate configured: nothing) and 01.01.2016 (1 %) -> 1 % x 100.00 = 1.00.
    account = make_account()
    make_tax(account, 2015, TaxType.SPECIAL, (date(2015, 3, 31), "100.00"))
    balance = account_balance(account, today=date(2016, 1, 15))
    assert balance.late_charges == D("1.00")
    assert any("before 01.01.2016" in n for n in balance.notes)


# --- the order of payments --------------------------------------------------------------------


def test_an_enforceable_fine_is_paid_first_even_when_the_payer_named_a_tax(rates):
    # A fine of 200.00 (enforceable since 03.02.2025) and building tax 2025 of 1,000.00
    # (bonus 100.00). 900.00 paid on 20.03.2025 "for the building tax": 200.00 to the fine
    # (CPF art. 165(2)), 700.00 to the tax (500.00 + 200.00): short of 900.00, no bonus;
    # 300.00 of instalment 2 owed by 30.09.2025.
    account = make_account()
    fine = make_fine(account, "200.00", date(2025, 1, 2), enforceable_since=date(2025, 2, 3))
    building = make_yearly(account, 2025, TaxType.BUILDING, "1000.00")
    before = account_balance(account, today=date(2025, 3, 20))
    assert fine_of(before, fine).enforceable is True
    assert before.fines_due == D("200.00")
    assert before.with_bonus_total == D("1100.00")

    payment = pay(account, date(2025, 3, 20), "900.00", obligation=building)
    after = account_balance(account, today=date(2025, 4, 1))
    assert allocations(after, payment) == [
        (FINE, D("200.00"), fine.number, None),
        (PRINCIPAL, D("500.00"), 2025, 1),
        (PRINCIPAL, D("200.00"), 2025, 2),
    ]
    assert fine_of(after, fine).outstanding == D("0.00")
    assert of(after, building).bonus_granted == D("0.00")
    assert [i.outstanding for i in of(after, building).instalments] == [D("0"), D("300.00")]


def test_oldest_arrears_first_and_principal_before_late_charges(rates):
    # Land tax 2023: 100.00 by Friday 31.03.2023 and 100.00 by 30.09.2023 (Saturday -> Monday
    # 02.10.2023). Land tax 2024: 100.00 by 31.03.2024 (Sunday -> 01.04.2024) and 100.00 by
    # Monday 30.09.2024. Nothing paid until 250.00 on 15.10.2024, with no indication.
    account = make_account()
    make_yearly(account, 2023, TaxType.LAND, "200.00")
    make_yearly(account, 2024, TaxType.LAND, "200.00")
    first = pay(account, date(2024, 10, 15), "250.00")
    # Principal by age: 2023/1 100.00, 2023/2 100.00, 2024/1 50.00 of 100.00. The charges it
    # fixes: 2023/1 from 01.04.2023, months begun to 15.10.2024 = 19 -> 19.00; 2023/2 from
    # 03.10.2023: 03.10.2023 .. 03.10.2024 = 13 -> 13.00; 2024/1 from 02.04.2024: 02.04 ..
    # 02.10.2024 = 7 -> 7 % x 50.00 = 3.50 -> 4.00. Nothing is left for them: 36.00 owed.
    balance = account_balance(account, today=date(2024, 10, 15))
    assert allocations(balance, first) == [
        (PRINCIPAL, D("100.00"), 2023, 1),
        (PRINCIPAL, D("100.00"), 2023, 2),
        (PRINCIPAL, D("50.00"), 2024, 1),
    ]
    # Still owed on 15.10.2024: principal 50.00 (2024/1) + 100.00 (2024/2) = 150.00; charges
    # 36.00 fixed + on 50.00 for 7 months 3.50 -> 4.00 + on 100.00 from 01.10.2024, 1 month,
    # 1.00 = 41.00; due 191.00.
    assert balance.overdue_principal == D("150.00")
    assert balance.late_charges == D("41.00")
    assert balance.due_today == D("191.00")

    # 191.00 paid the same day settles everything: 150.00 principal (fixing 4.00 and 1.00),
    # then the charges by age 19.00, 13.00, 4.00, 4.00, 1.00.
    second = pay(account, date(2024, 10, 15), "191.00")
    after = account_balance(account, today=date(2024, 10, 16))
    assert [a[:2] for a in allocations(after, second)] == [
        (PRINCIPAL, D("50.00")),
        (PRINCIPAL, D("100.00")),
        (LATE_CHARGE, D("19.00")),
        (LATE_CHARGE, D("13.00")),
        (LATE_CHARGE, D("4.00")),
        (LATE_CHARGE, D("4.00")),
        (LATE_CHARGE, D("1.00")),
    ]
    assert after.total == D("0.00")
    assert sum(b.late_charges_paid for b in after.obligations) == D("41.00")


def test_a_fresh_fine_named_at_the_desk_comes_after_the_enforceable_fines(rates):
    # Fine A: 300.00, enforceable since 10.02.2025. Fine B: 500.00, half of the legal minimum
    # 100.00, handed over on Monday 10.03.2025 (not an enforceable title). A special tax of
    # 100.00 overdue since 01.04.2024. 350.00 paid on 12.03.2025 "for fine B": 300.00 to A
    # first, then 50.00 to B (half not reached); the tax arrear gets nothing.
    account = make_account()
    fine_a = make_fine(account, "300.00", date(2025, 1, 6), enforceable_since=date(2025, 2, 10))
    fine_b = make_fine(
        account,
        "500.00",
        date(2025, 3, 10),
        communicated_on=date(2025, 3, 10),
        half_minimum="100.00",
    )
    make_tax(account, 2024, TaxType.SPECIAL, (date(2024, 3, 31), "100.00"))
    payment = pay(account, date(2025, 3, 12), "350.00", fine=fine_b)
    balance = account_balance(account, today=date(2025, 3, 12))
    assert allocations(balance, payment) == [
        (FINE, D("300.00"), fine_a.number, None),
        (FINE, D("50.00"), fine_b.number, None),
    ]
    # B: 450.00 owed, or 100.00 - 50.00 = 50.00 more until 25.03.2025 (10.03 + 15 days).
    b = fine_of(balance, fine_b)
    assert (b.outstanding, b.half_amount, b.half_until) == (
        D("450.00"),
        D("50.00"),
        date(2025, 3, 25),
    )
    assert b.enforceable is False
    assert balance.overdue_principal == D("100.00")


def test_money_not_named_goes_to_a_fine_not_yet_enforceable_only_after_the_taxes(rates):
    # Fine C of 100.00 (not enforceable), a special tax of 100.00 overdue since 01.04.2024.
    # 150.00 paid on 01.04.2025 with no indication: tax 100.00 (12 months -> charge 12.00),
    # the charge 12.00, then 38.00 to the fine.
    account = make_account()
    fine = make_fine(account, "100.00", date(2025, 3, 1))
    make_tax(account, 2024, TaxType.SPECIAL, (date(2024, 3, 31), "100.00"))
    payment = pay(account, date(2025, 4, 1), "150.00")
    balance = account_balance(account, today=date(2025, 4, 1))
    assert [a[:2] for a in allocations(balance, payment)] == [
        (PRINCIPAL, D("100.00")),
        (LATE_CHARGE, D("12.00")),
        (FINE, D("38.00")),
    ]
    assert fine_of(balance, fine).outstanding == D("62.00")


# --- fines and the half of the minimum -----------------------------------------------------------


@pytest.fixture
def fine_half(rates):
    # A fine of 1,000.00 whose legal minimum is 500.00: half of it, 250.00, settles it when
    # paid within 15 days of Monday 10.03.2025, i.e. by Tuesday 25.03.2025.
    account = make_account()
    fine = make_fine(
        account,
        "1000.00",
        date(2025, 3, 10),
        communicated_on=date(2025, 3, 10),
        half_minimum="250.00",
    )
    return account, fine


def test_a_fine_paid_at_half_within_15_days_is_settled(fine_half):
    account, fine = fine_half
    before = fine_of(account_balance(account, today=date(2025, 3, 12)), fine)
    assert (before.outstanding, before.half_amount, before.half_until) == (
        D("1000.00"),
        D("250.00"),
        date(2025, 3, 25),
    )
    pay(account, date(2025, 3, 25), "250.00", fine=fine)
    balance = account_balance(account, today=date(2025, 3, 26))
    after = fine_of(balance, fine)
    assert after.paid_at_half is True
    assert after.outstanding == D("0.00")
    assert balance.fines_due == D("0.00")
    assert balance.total == D("0.00")


def test_a_fine_paid_at_half_after_15_days_owes_the_rest(fine_half):
    # 250.00 paid on 26.03.2025, a day late: the whole 1,000.00 is owed, 750.00 remains.
    account, fine = fine_half
    pay(account, date(2025, 3, 26), "250.00", fine=fine)
    balance = account_balance(account, today=date(2025, 3, 26))
    after = fine_of(balance, fine)
    assert after.paid_at_half is False
    assert after.outstanding == D("750.00")
    assert after.half_amount is None
    assert balance.fines_due == D("750.00")


def test_the_last_day_of_the_half_option_moves_to_a_working_day(rates):
    # Communicated on Saturday 15.03.2025: 15 days later is Sunday 30.03.2025, so the option
    # lasts until Monday 31.03.2025; 250.00 paid that day settles the fine.
    account = make_account()
    fine = make_fine(
        account,
        "1000.00",
        date(2025, 3, 14),
        communicated_on=date(2025, 3, 15),
        half_minimum="250.00",
    )
    assert fine_of(account_balance(account, today=date(2025, 3, 30)), fine).half_until == date(
        2025, 3, 31
    )
    pay(account, date(2025, 3, 31), "250.00", fine=fine)
    assert fine_of(account_balance(account, today=date(2025, 4, 1)), fine).paid_at_half


def test_contested_paid_and_cancelled_fines(rates):
    # Contested 500.00: shown, not owed. Paid (per the revenue system) 300.00 and
    # cancelled 200.00: nothing owed.
    account = make_account()
    contested = make_fine(account, "500.00", date(2025, 1, 5), status=FineStatus.CONTESTED)
    make_fine(account, "300.00", date(2025, 1, 6), status=FineStatus.PAID)
    make_fine(account, "200.00", date(2025, 1, 7), status=FineStatus.CANCELLED)
    balance = account_balance(account, today=date(2025, 3, 1))
    assert [(b.outstanding, b.contested) for b in balance.fines] == [
        (D("500.00"), True),
        (D("0.00"), False),
        (D("0.00"), False),
    ]
    assert fine_of(balance, contested).enforceable is False
    assert balance.fines_due == D("0.00")
    assert balance.total == D("0.00")
    assert any("contested" in n for n in balance.notes)


def test_a_payment_named_for_a_fine_the_revenue_system_marks_paid_stays_with_it(rates):
    # The revenue system says fine D (150.00) is paid; its 150.00 payment names it. The money
    # stays with the fine instead of going to the overdue tax.
    account = make_account()
    fine = make_fine(account, "150.00", date(2025, 1, 6), status=FineStatus.PAID)
    make_tax(account, 2024, TaxType.SPECIAL, (date(2024, 3, 31), "100.00"))
    payment = pay(account, date(2025, 1, 10), "150.00", fine=fine)
    balance = account_balance(account, today=date(2025, 1, 10))
    assert allocations(balance, payment) == [(FINE, D("150.00"), fine.number, None)]
    assert balance.overdue_principal == D("100.00")


# --- the day of the balance ---------------------------------------------------------------------


def test_payments_and_fines_after_the_day_are_not_counted(rates):
    account = make_account()
    make_tax(account, 2025, TaxType.SPECIAL, (date(2025, 3, 31), "200.00"))
    pay(account, date(2025, 6, 1), "200.00")
    make_fine(account, "100.00", date(2025, 5, 1))
    # On 15.04.2025 neither the payment nor the fine exists yet: 200.00 + 1 month 2.00.
    balance = account_balance(account, today=date(2025, 4, 15))
    assert balance.allocations == []
    assert balance.fines == []
    assert balance.due_today == D("202.00")


def test_the_notes_warn_about_the_payment_order_and_the_fines_shown(rates):
    notes = account_balance(make_account(), today=date(2025, 3, 1)).notes
    assert any("art. 165" in n for n in notes)
    assert any("Only fines registered with the local revenue office" in n for n in notes)


# --- a long history in a fixed number of queries ----------------------------------------------


def make_history(account, years: range) -> None:
    """Building, land and vehicle tax each year, two or three payments a year, a fine a
    year: what ten years of a real taxpayer look like."""
    for year in years:
        make_yearly(account, year, TaxType.BUILDING, "812.00")
        make_yearly(account, year, TaxType.LAND, "96.00")
        make_yearly(account, year, TaxType.VEHICLE, "431.00")
        pay(account, date(year, 3, 20), "700.00")
        pay(account, date(year, 9, 25), "500.00")
        pay(account, date(year, 11, 3), "120.00")
        make_fine(
            account,
            "500.00",
            date(year, 5, 5),
            communicated_on=date(year, 5, 5),
            half_minimum="250.00",
            enforceable_since=date(year, 6, 15),
        )


def test_the_queries_do_not_grow_with_the_history(rates, django_assert_max_num_queries):
    short = make_account()
    make_history(short, range(2025, 2026))
    long = make_account()
    make_history(long, range(2016, 2026))

    counts = []
    for account in (short, long):
        cache.clear()  # count the closure days' query too
        with CaptureQueriesContext(connection) as ctx:
            account_balance(account, today=date(2026, 1, 15))
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(8):
        cache.clear()
        balance = account_balance(long, today=date(2026, 1, 15))
    assert len(balance.obligations) == 30
    assert len(balance.fines) == 10


def test_each_payment_is_applied_whole(rates):
    # Whatever the history, the allocations of a payment (the bonus apart) add up to it, and
    # what is owed plus what was extinguished is what was ever due.
    account = make_account()
    make_history(account, range(2016, 2026))
    balance = account_balance(account, today=date(2026, 1, 15))
    by_payment: dict[int, Decimal] = {}
    for a in balance.allocations:
        if a.kind != BONUS:
            by_payment[a.payment.id] = by_payment.get(a.payment.id, D(0)) + a.amount
    payments = {p.id: p.amount for p in Payment.objects.filter(account=account)}
    assert by_payment == payments
    for line in balance.obligations:
        assert line.paid + line.overdue + line.upcoming == line.obligation.amount


def test_an_obligation_without_instalments_gets_the_years_default_ones(rates):
    # A vehicle tax 2025 of 300.00 imported without instalments: the year's terms give
    # 150.00 by 31.03.2025 and 150.00 by 30.09.2025. A 2013 one (no terms configured) is left
    # out, and the notes say so.
    account = make_account()
    vehicle = Obligation.objects.create(
        account=account,
        external_id="V-2025",
        tax_type=TaxType.VEHICLE,
        fiscal_year=2025,
        amount=D("300.00"),
    )
    Obligation.objects.create(
        account=account,
        external_id="V-2013",
        tax_type=TaxType.VEHICLE,
        fiscal_year=2013,
        amount=D("80.00"),
    )
    balance = account_balance(account, today=date(2025, 4, 1))
    assert [(i.due_date, i.amount) for i in of(balance, vehicle).instalments] == [
        (date(2025, 3, 31), D("150.00")),
        (date(2025, 9, 30), D("150.00")),
    ]
    assert len(balance.obligations) == 1
    assert balance.overdue_principal == D("150.00")
    assert any("has no instalments" in n for n in balance.notes)
