"""Reads on what taxpayers owe: who may see a balance, and the balances they may see.

Staff see balances with ``revenue.view_balance`` (the revenue officer role and the
superuser; no other role). A citizen sees the balances of the taxpayer accounts linked to
their portal login (``PortalTaxLink``) and nothing else: any other account is a 404, so a
guessed id tells nothing. The balance itself is computed by ``balance.account_balance``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.core.workdays import local_date
from cetatea.people.models import Person
from cetatea.portal.models import CitizenAccount
from cetatea.revenue.balance import Balance, account_balance
from cetatea.revenue.models import PortalTaxAttempt, PortalTaxLink, TaxpayerAccount

# The portal's lock: this many failed attempts to link a tax record within the window
# lock linking for the window, counted from the last of them.
LINK_MAX_FAILURES = 5
LINK_WINDOW = dt.timedelta(hours=1)
# Accounts shown for one person or one citizen: a person has one or two (as a
# natural person and as a sole trader); the cap keeps the page bounded all the same.
MAX_ACCOUNTS = 20

User = AbstractBaseUser | AnonymousUser


# --- access checks (one condition per line) ------------------------------------------------


def access_person_balance(user: User, person_id: int) -> Person:
    """The person, if ``user`` may see what they owe; else PermissionDenied/Http404."""
    if not user.is_authenticated:
        raise PermissionDenied
    if not user.is_active:
        raise PermissionDenied
    if not user.has_perm("revenue.view_balance"):
        raise PermissionDenied
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise Http404(_("This person does not exist."))
    return person


def access_staff_account(user: User, account_id: int) -> TaxpayerAccount:
    """A taxpayer account whose balance ``user`` (staff) may see; else 403/404."""
    if not user.is_authenticated:
        raise PermissionDenied
    if not user.is_active:
        raise PermissionDenied
    if not user.has_perm("revenue.view_balance"):
        raise PermissionDenied
    account = TaxpayerAccount.objects.select_related("person").filter(pk=account_id).first()
    if account is None:
        raise Http404(_("This taxpayer account does not exist."))
    return account


def citizen_of(user: User) -> CitizenAccount | None:
    """The portal login of ``user``, or None for staff and anonymous visitors."""
    if not user.is_authenticated:
        return None
    if not user.is_active:
        return None
    return CitizenAccount.objects.filter(user=user).first()


def access_citizen_account(user: User, account_id: int) -> TaxpayerAccount:
    """A taxpayer account linked to ``user``'s portal login; Http404 for any other."""
    citizen = citizen_of(user)
    if citizen is None:
        raise Http404
    link = (
        PortalTaxLink.objects.select_related("account__person")
        .filter(citizen=citizen, account_id=account_id)
        .first()
    )
    if link is None:
        raise Http404
    return link.account


# --- balances ----------------------------------------------------------------------------


def today() -> dt.date:
    """The local (Europe/Bucharest) date: what balances are computed for."""
    return local_date(timezone.now())


def person_balances(person: Person, *, on: dt.date | None = None) -> list[Balance]:
    """The balance of each taxpayer account of ``person``, by account number."""
    on = on or today()
    accounts = TaxpayerAccount.objects.filter(person=person).order_by("external_id")
    return [account_balance(a, today=on) for a in accounts[:MAX_ACCOUNTS]]


def citizen_accounts(citizen: CitizenAccount) -> list[TaxpayerAccount]:
    """The taxpayer accounts a citizen linked, in the order they linked them."""
    links = (
        PortalTaxLink.objects.filter(citizen=citizen)
        .select_related("account")
        .order_by("verified_at", "id")
    )
    return [link.account for link in links[:MAX_ACCOUNTS]]


def citizen_balances(citizen: CitizenAccount, *, on: dt.date | None = None) -> list[Balance]:
    on = on or today()
    return [account_balance(a, today=on) for a in citizen_accounts(citizen)]


def link_locked_until(citizen: CitizenAccount, *, now: dt.datetime | None = None):
    """When the citizen may try to link a tax record again, or None if they may now.

    Locked for ``LINK_WINDOW`` after the last of ``LINK_MAX_FAILURES`` failures that all
    fell within ``LINK_WINDOW``; counted in the database, so every web process agrees."""
    now = now or timezone.now()
    recent = list(
        PortalTaxAttempt.objects.filter(citizen=citizen, at__gte=now - 2 * LINK_WINDOW)
        .order_by("-at")
        .values_list("at", flat=True)[:LINK_MAX_FAILURES]
    )
    if len(recent) < LINK_MAX_FAILURES:
        return None
    if recent[0] - recent[-1] > LINK_WINDOW:
        return None
    until = recent[0] + LINK_WINDOW
    return until if until > now else None


# --- what a page shows --------------------------------------------------------------------


@dataclass
class Statement:
    """A balance as the screens and the PDF show it: the lines still of interest."""

    balance: Balance
    obligations: list  # ObligationBalance with something owed, or of the current year
    fines: list  # FineBalance still owed or still payable at half
    settled_obligations: int  # earlier years' obligations paid in full (not listed)
    settled_fines: int
    notes: list[str]  # the balance's warnings (how payments are applied, among others)


def statement(balance: Balance) -> Statement:
    """The lines worth showing: earlier years paid in full are only counted, so ten
    years of history do not bury what is owed today."""
    shown, settled = [], 0
    for ob in balance.obligations:
        owed = ob.overdue + ob.upcoming + ob.late_charges
        if owed > 0 or ob.obligation.fiscal_year >= balance.today.year:
            shown.append(ob)
        else:
            settled += 1
    fines = [f for f in balance.fines if f.outstanding > 0 or f.half_amount is not None]
    return Statement(
        balance=balance,
        obligations=shown,
        fines=fines,
        settled_obligations=settled,
        settled_fines=len(balance.fines) - len(fines),
        notes=list(balance.notes),
    )
