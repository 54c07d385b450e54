"""Data for the tests of the revenue screens (panel, portal, statement), made with the
models directly, and the figures a person works out by hand for it.

On 15 May 2026 the taxpayer of ``make_taxpayer`` owes:

* building tax 2025 (800 lei, 2 x 400) paid whole on 20 March 2025: settled, not listed;
* building tax 2026, 1,000 lei: instalment 1 (500 lei, due Tuesday 31 March 2026) unpaid,
  so late charges of 1% for each month or part of a month from 1 April: 1-30 April and
  1-15 May are two, 2% x 500 = 10 lei; instalment 2 (500 lei, 30 September) not due yet;
* a fine of 1,000 lei (AB 123456 of 10 January 2026, enforceable since 1 February 2026,
  no half-of-minimum option): 1,000 lei.

Due today 500 + 10 + 1,000 = 1,510 lei; not due yet 500; total 2,010; next due
30.09.2026, 500 lei.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

from cetatea.core import crypto
from cetatea.portal.models import CitizenAccount
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
from conftest import make_cnp, make_person, make_user

BUC = ZoneInfo("Europe/Bucharest")
MAY_15 = dt.datetime(2026, 5, 15, 10, 0, tzinfo=BUC)
FEB_10 = dt.datetime(2026, 2, 10, 10, 0, tzinfo=BUC)

# As an English page shows them (the tests read English pages, so that wording does not
# change when the Romanian catalogue does) ...
DUE_TODAY = "1,510.00 lei"
TOTAL = "2,010.00 lei"
FINES = "1,000.00 lei"
LATE = "10.00 lei"
INSTALMENT = "500.00 lei"
# ... and as the Romanian interface (the default) formats them.
DUE_TODAY_RO = "1.510,00 lei"
TOTAL_RO = "2.010,00 lei"
FINES_RO = "1.000,00 lei"


def english(client):
    """The client reads the interface in English (the language switcher's cookie)."""
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


_ids = itertools.count(1)


def make_config() -> None:
    """The dated configuration the balance reads: terms, late charge, bonus (data)."""
    for year in (2025, 2026):
        FiscalYear.objects.get_or_create(
            year=year,
            defaults={
                "first_due": dt.date(year, 3, 31),
                "second_due": dt.date(year, 9, 30),
                "small_tax_limit": Decimal("50.00"),
            },
        )
    LateChargeRate.objects.get_or_create(
        valid_from=dt.date(2016, 1, 1),
        defaults={"percent_per_month": Decimal("1.00"), "legal_basis": "CPF art. 183(2)"},
    )
    BonusRate.objects.get_or_create(
        year=2026,
        tax_type="building",
        taxpayer_kind="individual",
        defaults={"percent": Decimal("10.00")},
    )


def _obligation(account, *, year: int, amount: str, subject: str) -> Obligation:
    ob = Obligation.objects.create(
        account=account,
        external_id=f"OB-{next(_ids)}",
        tax_type="building",
        fiscal_year=year,
        subject=subject,
        amount=Decimal(amount),
        content_hash="test",
    )
    half = Decimal(amount) / 2
    Instalment.objects.create(obligation=ob, seq=1, due_date=dt.date(year, 3, 31), amount=half)
    Instalment.objects.create(obligation=ob, seq=2, due_date=dt.date(year, 9, 30), amount=half)
    return ob


def make_taxpayer(
    *, external_id: str = "", person=None, cnp: str = "", name: str = "POPESCU ION"
) -> TaxpayerAccount:
    """A taxpayer account with the history described at the top of this module."""
    make_config()
    cnp = cnp or make_cnp()
    if person is None:
        person = make_person(national_id=cnp, last_name="Popescu", first_name="Ion")
    account = TaxpayerAccount.objects.create(
        external_id=external_id or f"R-{next(_ids):05d}",
        person=person,
        kind="individual",
        national_id_hash=crypto.lookup_hash(cnp),
        name=name,
        address="Str. Moților 12, Alba Iulia",
        content_hash="test",
    )
    old = _obligation(account, year=2025, amount="800.00", subject="Str. Moților 12")
    Payment.objects.create(
        account=account,
        external_id=f"PAY-{next(_ids)}",
        paid_on=dt.date(2025, 3, 20),
        amount=Decimal("800.00"),
        obligation=old,
        content_hash="test",
    )
    _obligation(account, year=2026, amount="1000.00", subject="Str. Moților 12")
    Fine.objects.create(
        account=account,
        external_id=f"FINE-{next(_ids)}",
        series="AB",
        number="123456",
        issued_on=dt.date(2026, 1, 10),
        communicated_on=dt.date(2026, 1, 12),
        issuer="Poliția Locală Alba Iulia",
        amount=Decimal("1000.00"),
        enforceable_since=dt.date(2026, 2, 1),
        content_hash="test",
    )
    return account


def make_citizen(username: str = "ion", email: str = "") -> CitizenAccount:
    """A portal login (no staff role), with its own Person."""
    user = make_user(username)
    person = make_person(last_name="Cetățean", first_name=username)
    return CitizenAccount.objects.create(
        user=user, person=person, email=email or f"{username}@example.ro"
    )
