"""The balance on the person's 360° page: loaded with htmx from a revenue view, for the
revenue role (audited); every other role gets no panel and a 403 on its URL."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from cetatea.core import roles
from cetatea.core.models import AuditLog
from cetatea.revenue.balance import account_balance
from cetatea.revenue.templatetags.revenue_tags import lei
from cetatea.revenue.tests.screens_data import (
    DUE_TODAY,
    DUE_TODAY_RO,
    FINES,
    FINES_RO,
    INSTALMENT,
    LATE,
    MAY_15,
    TOTAL,
    TOTAL_RO,
    english,
    make_taxpayer,
)
from conftest import make_person, make_user

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
ALL_OTHER_ROLES = [
    roles.OPERATOR,
    roles.MANAGER,
    roles.REGISTRY_CLERK,
    roles.DEPARTMENT_STAFF,
    roles.FIELD_CREW,
    roles.ADMINISTRATOR,
]


@pytest.fixture(autouse=True)
def _may_15():
    with time_machine.travel(MAY_15, tick=False):
        yield


@pytest.fixture
def account():
    return make_taxpayer(external_id="R-4242")


@pytest.fixture
def officer():
    return make_user("rev", roles.REVENUE_OFFICER)


def _panel_url(account) -> str:
    return reverse("revenue:person_balance", args=[account.person_id])


def test_person_page_loads_the_panel_with_htmx_for_an_officer(client, account, officer):
    client.force_login(officer)
    html = client.get(reverse("people:detail", args=[account.person_id])).content.decode()
    assert f'hx-get="{_panel_url(account)}"' in html
    assert 'hx-trigger="load"' in html
    # Without JavaScript the same panel is one link away.
    assert f'href="{_panel_url(account)}"' in html
    # The person page itself computes no balance (and writes no balance audit row).
    assert DUE_TODAY_RO not in html
    assert not AuditLog.objects.filter(action=AuditLog.Action.VIEW_BALANCE).exists()


def test_officer_sees_the_balance_and_the_view_is_audited(client, account, officer):
    english(client).force_login(officer)
    response = client.get(_panel_url(account), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # a partial for htmx
    assert 'id="balance"' in html
    for figure in (DUE_TODAY, TOTAL, FINES, LATE, INSTALMENT, "30.09.2026", "31.03.2026"):
        assert figure in html
    assert "Building tax 2026" in html and "Str. Moților 12" in html
    assert "R-4242" in html and "AB 123456" in html and "Poliția Locală Alba Iulia" in html
    assert "(overdue)" in html
    assert reverse("revenue:statement", args=[account.pk]) in html
    audit = AuditLog.objects.get(action=AuditLog.Action.VIEW_BALANCE)
    assert audit.actor == officer
    assert audit.person_id == account.person_id
    assert audit.details == {"what": "panel", "accounts": ["R-4242"]}


def test_each_view_of_the_panel_is_audited(client, account, officer):
    client.force_login(officer)
    client.get(_panel_url(account), **HTMX)
    client.get(_panel_url(account))
    assert AuditLog.objects.filter(action=AuditLog.Action.VIEW_BALANCE).count() == 2


def test_panel_in_romanian_formats_money_the_romanian_way(client, account, officer):
    client.force_login(officer)
    html = client.get(_panel_url(account), **HTMX).content.decode()
    for figure in (DUE_TODAY_RO, TOTAL_RO, FINES_RO, "500,00 lei"):
        assert figure in html


def test_panel_shows_what_the_balance_computes(client, account, officer):
    """Every total on the panel is the balance service's own figure."""
    balance = account_balance(account)
    english(client).force_login(officer)
    html = client.get(_panel_url(account), **HTMX).content.decode()
    with translation.override("en"):
        for amount in (
            balance.due_today,
            balance.overdue_principal,
            balance.late_charges,
            balance.fines_due,
            balance.upcoming,
            balance.total,
            balance.next_due_amount,
        ):
            assert lei(amount) in html


def test_settled_years_are_counted_not_listed(client, account, officer):
    english(client).force_login(officer)
    html = client.get(_panel_url(account), **HTMX).content.decode()
    assert "Building tax 2025" not in html
    assert "One tax of an earlier year is paid in full and not listed." in html


def test_panel_without_htmx_is_a_page_of_its_own(client, account, officer):
    client.force_login(officer)
    html = client.get(_panel_url(account)).content.decode()
    assert "<html" in html and DUE_TODAY_RO in html
    assert reverse("people:detail", args=[account.person_id]) in html


def test_superuser_sees_the_panel(client, account):
    client.force_login(make_user("root", is_superuser=True, is_staff=True))
    assert DUE_TODAY_RO in client.get(_panel_url(account), **HTMX).content.decode()


def test_person_without_a_tax_account(client, officer):
    person = make_person(last_name="Ionescu")
    english(client).force_login(officer)
    html = client.get(reverse("revenue:person_balance", args=[person.pk]), **HTMX).content.decode()
    assert "No taxpayer account of the revenue office is linked to this person." in html


def test_unknown_person_is_404(client, officer):
    client.force_login(officer)
    assert client.get(reverse("revenue:person_balance", args=[999_999])).status_code == 404


def test_panel_reads_a_bounded_number_of_queries(
    client, account, officer, django_assert_max_num_queries
):
    client.force_login(officer)
    with django_assert_max_num_queries(20):
        assert client.get(_panel_url(account), **HTMX).status_code == 200


@pytest.mark.parametrize("role", ALL_OTHER_ROLES)
def test_other_roles_get_no_panel_and_403(client, account, role):
    user = make_user("someone", role)
    client.force_login(user)
    if user.has_perm("people.view_person_360"):
        page = client.get(reverse("people:detail", args=[account.person_id]))
        assert page.status_code == 200
        html = page.content.decode()
        assert 'id="balance"' not in html
        assert _panel_url(account) not in html
    for url in (_panel_url(account), reverse("revenue:statement", args=[account.pk])):
        response = client.get(url, **HTMX)
        assert response.status_code == 403
        body = response.content.decode(errors="replace")
        assert DUE_TODAY_RO not in body and "R-4242" not in body
    assert not AuditLog.objects.filter(action=AuditLog.Action.VIEW_BALANCE).exists()


def test_citizen_login_gets_403_on_the_staff_pages(client, account):
    client.force_login(make_user("citizen"))
    assert client.get(_panel_url(account), **HTMX).status_code == 403
    assert client.get(reverse("revenue:statement", args=[account.pk])).status_code == 403


def test_anonymous_is_sent_to_login(client, account):
    for url in (_panel_url(account), reverse("revenue:statement", args=[account.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
