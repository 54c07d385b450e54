"""The PDF tax statement: its text (read back with pypdf) has the taxpayer, the day, the
lines and the totals; staff downloads are audited."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from cetatea.core import roles
from cetatea.core.models import AuditLog
from cetatea.revenue.balance import account_balance
from cetatea.revenue.pdf import statement_pdf
from cetatea.revenue.templatetags.revenue_tags import lei
from cetatea.revenue.tests.screens_data import (
    DUE_TODAY,
    DUE_TODAY_RO,
    FEB_10,
    FINES_RO,
    MAY_15,
    TOTAL_RO,
    english,
    make_taxpayer,
)
from conftest import make_cnp, make_user

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def cnp():
    return make_cnp(77)


@pytest.fixture
def account(cnp):
    return make_taxpayer(external_id="R-4242", cnp=cnp, name="POPESCU ION ȘTEFAN")


@pytest.fixture
def officer():
    return make_user("rev", roles.REVENUE_OFFICER)


def test_officer_downloads_the_statement_with_the_totals(client, account, officer, cnp):
    client.force_login(officer)
    with time_machine.travel(MAY_15, tick=False):
        response = client.get(reverse("revenue:statement", args=[account.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert {"private", "no-store"} <= {
        part.strip() for part in response["Cache-Control"].split(",")
    }
    assert "situatie-fiscala-r-4242-2026-05-15.pdf" in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert django_settings.CETATEA_INSTITUTION_NAME in text
    assert "POPESCU ION ȘTEFAN" in text
    assert "R-4242" in text
    masked = cnp[0] + "*" * 10 + cnp[-2:]
    assert masked in text and cnp not in text
    assert "15.05.2026" in text  # the day it was computed for
    for figure in (DUE_TODAY_RO, TOTAL_RO, FINES_RO, "500,00 lei", "10,00 lei", "30.09.2026"):
        assert figure in text
    assert "AB 123456" in text and "Poliția Locală Alba Iulia" in text
    audit = AuditLog.objects.get(action=AuditLog.Action.VIEW_BALANCE)
    assert audit.actor == officer and audit.person_id == account.person_id
    assert audit.details == {"what": "statement", "accounts": ["R-4242"]}


def test_statement_in_english_has_the_footer_and_the_payment_order(client, account, officer):
    english(client).force_login(officer)
    with time_machine.travel(MAY_15, tick=False):
        text = pdf_text(client.get(reverse("revenue:statement", args=[account.pk])).content)
    assert "Tax statement" in text
    assert DUE_TODAY in text
    assert "records of the revenue office prevail" in text
    assert "art. 165" in text  # how payments are applied
    assert "Page 1" in text


def test_statement_has_every_total_the_balance_computes(account):
    with time_machine.travel(MAY_15, tick=False), translation.override("ro"):
        balance = account_balance(account)
        text = pdf_text(statement_pdf(balance))
        for amount in (
            balance.due_today,
            balance.overdue_principal,
            balance.late_charges,
            balance.fines_due,
            balance.upcoming,
            balance.total,
        ):
            assert lei(amount) in text


def test_statement_offers_the_bonus_before_the_first_term(client, account, officer):
    english(client).force_login(officer)
    with time_machine.travel(FEB_10, tick=False):
        balance = account_balance(account)
        text = pdf_text(client.get(reverse("revenue:statement", args=[account.pk])).content)
    assert balance.with_bonus_total is not None  # 10% on the 2026 building tax
    with translation.override("en"):
        assert "Early-payment bonus" in text
        assert lei(balance.with_bonus_total) in text
        assert lei(balance.bonus_saving) in text
    assert "31.03.2026" in text


@pytest.mark.parametrize("role", [roles.OPERATOR, roles.MANAGER, roles.REGISTRY_CLERK])
def test_other_roles_may_not_download_it(client, account, role):
    client.force_login(make_user("someone", role))
    response = client.get(reverse("revenue:statement", args=[account.pk]))
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


def test_unknown_account_is_404(client, officer):
    client.force_login(officer)
    assert client.get(reverse("revenue:statement", args=[999_999])).status_code == 404
