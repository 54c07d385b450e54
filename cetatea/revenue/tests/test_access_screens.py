"""Who may see a balance: the revenue role and the superuser among staff, a citizen only
for the tax records they linked; the access checks one case at a time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from cetatea.core import roles
from cetatea.revenue import selectors
from cetatea.revenue.models import PortalTaxAttempt, PortalTaxLink
from cetatea.revenue.tests.screens_data import make_citizen, make_taxpayer
from conftest import make_user

pytestmark = pytest.mark.django_db

BALANCE_PERMS = {"view_balance", "view_taxpayeraccount", "import_revenue"}


def _codenames(role: str) -> set[str]:
    return set(
        Group.objects.get(name=role)
        .permissions.filter(content_type__app_label="revenue")
        .values_list("codename", flat=True)
    )


def test_revenue_officer_role_has_the_balance_and_person_read_permissions():
    group = Group.objects.get(name=roles.REVENUE_OFFICER)
    perms = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }
    assert {f"revenue.{c}" for c in BALANCE_PERMS} <= perms
    assert {"people.view_person", "people.view_person_360"} <= perms
    assert "people.reveal_national_id" not in perms


@pytest.mark.parametrize(
    "role",
    [r for r in roles.ROLE_PERMISSIONS if r != roles.REVENUE_OFFICER],
)
def test_no_other_role_sees_balances(role):
    assert "view_balance" not in _codenames(role)
    assert not make_user("someone", role).has_perm("revenue.view_balance")


@pytest.fixture
def account():
    return make_taxpayer()


@pytest.fixture
def users():
    return {
        "officer": make_user("rev", roles.REVENUE_OFFICER),
        "operator": make_user("op", roles.OPERATOR),
        "inactive": make_user("gone", roles.REVENUE_OFFICER, is_active=False),
        "superuser": make_user("root", is_superuser=True, is_staff=True),
    }


# --- staff: a person's balance --------------------------------------------------------------


def test_anonymous_may_not_see_a_person_balance(account):
    with pytest.raises(PermissionDenied):
        selectors.access_person_balance(AnonymousUser(), account.person_id)


def test_inactive_officer_may_not_see_a_person_balance(account, users):
    with pytest.raises(PermissionDenied):
        selectors.access_person_balance(users["inactive"], account.person_id)


def test_user_without_the_permission_may_not_see_a_person_balance(account, users):
    with pytest.raises(PermissionDenied):
        selectors.access_person_balance(users["operator"], account.person_id)


def test_unknown_person_is_404_for_an_officer(users):
    with pytest.raises(Http404):
        selectors.access_person_balance(users["officer"], 999_999)


@pytest.mark.parametrize("who", ["officer", "superuser"])
def test_officer_and_superuser_see_a_person_balance(account, users, who):
    assert selectors.access_person_balance(users[who], account.person_id) == account.person


# --- staff: one account (the PDF) --------------------------------------------------------------


def test_anonymous_may_not_open_an_account(account):
    with pytest.raises(PermissionDenied):
        selectors.access_staff_account(AnonymousUser(), account.pk)


def test_inactive_officer_may_not_open_an_account(account, users):
    with pytest.raises(PermissionDenied):
        selectors.access_staff_account(users["inactive"], account.pk)


def test_user_without_the_permission_may_not_open_an_account(account, users):
    with pytest.raises(PermissionDenied):
        selectors.access_staff_account(users["operator"], account.pk)


def test_unknown_account_is_404_for_an_officer(users):
    with pytest.raises(Http404):
        selectors.access_staff_account(users["officer"], 999_999)


def test_officer_opens_an_account(account, users):
    assert selectors.access_staff_account(users["officer"], account.pk) == account


# --- the citizen ------------------------------------------------------------------------------


def test_anonymous_gets_404_for_any_account(account):
    with pytest.raises(Http404):
        selectors.access_citizen_account(AnonymousUser(), account.pk)


def test_staff_without_a_portal_login_gets_404(account, users):
    with pytest.raises(Http404):
        selectors.access_citizen_account(users["officer"], account.pk)


def test_citizen_gets_404_for_an_account_not_linked(account):
    citizen = make_citizen()
    with pytest.raises(Http404):
        selectors.access_citizen_account(citizen.user, account.pk)


def test_citizen_gets_404_for_another_citizens_link(account):
    owner, other = make_citizen("owner"), make_citizen("other")
    PortalTaxLink.objects.create(citizen=owner, account=account)
    with pytest.raises(Http404):
        selectors.access_citizen_account(other.user, account.pk)


def test_inactive_citizen_gets_404(account):
    citizen = make_citizen()
    PortalTaxLink.objects.create(citizen=citizen, account=account)
    citizen.user.is_active = False
    citizen.user.save(update_fields=["is_active"])
    with pytest.raises(Http404):
        selectors.access_citizen_account(citizen.user, account.pk)


def test_citizen_opens_a_linked_account(account):
    citizen = make_citizen()
    PortalTaxLink.objects.create(citizen=citizen, account=account)
    assert selectors.access_citizen_account(citizen.user, account.pk) == account


# --- the lock on linking ---------------------------------------------------------------------


def _failures_at(citizen, *moments: dt.datetime) -> None:
    for moment in moments:
        attempt = PortalTaxAttempt.objects.create(citizen=citizen)
        PortalTaxAttempt.objects.filter(pk=attempt.pk).update(at=moment)


def test_four_failures_do_not_lock():
    citizen = make_citizen()
    now = timezone.now()
    _failures_at(citizen, *[now - dt.timedelta(minutes=m) for m in range(4)])
    assert selectors.link_locked_until(citizen, now=now) is None


def test_five_failures_within_an_hour_lock_for_an_hour_from_the_last():
    citizen = make_citizen()
    now = timezone.now()
    last = now - dt.timedelta(minutes=10)
    _failures_at(citizen, *[last - dt.timedelta(minutes=12 * m) for m in range(5)])
    assert selectors.link_locked_until(citizen, now=now) == last + dt.timedelta(hours=1)
    assert selectors.link_locked_until(citizen, now=last + dt.timedelta(minutes=61)) is None


def test_five_failures_spread_over_more_than_an_hour_do_not_lock():
    citizen = make_citizen()
    now = timezone.now()
    _failures_at(citizen, *[now - dt.timedelta(minutes=16 * m) for m in range(5)])
    assert selectors.link_locked_until(citizen, now=now) is None


def test_failures_of_another_citizen_do_not_count():
    citizen, other = make_citizen("a"), make_citizen("b")
    now = timezone.now()
    _failures_at(other, *[now - dt.timedelta(minutes=m) for m in range(5)])
    assert selectors.link_locked_until(citizen, now=now) is None
    assert selectors.link_locked_until(other, now=now) is not None
