"""The citizen's "My taxes and fines": linking a tax record with the CNP/CUI and the
account number of the payment notice, the lock after 5 failures, the balance and the PDF
of linked records only."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from cetatea.revenue.models import PortalTaxAttempt, PortalTaxLink
from cetatea.revenue.tests.screens_data import (
    DUE_TODAY,
    DUE_TODAY_RO,
    MAY_15,
    TOTAL,
    english,
    make_citizen,
    make_taxpayer,
)
from conftest import make_cnp

pytestmark = pytest.mark.django_db
LINK = "/account/taxes/link/"
NO_MATCH = "We found no tax record with this CNP/CUI and this taxpayer account number."


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # the per-address limit of earlier tests
    yield
    cache.clear()


@pytest.fixture
def cnp():
    return make_cnp(321)


@pytest.fixture
def account(cnp):
    return make_taxpayer(external_id="R-7001", cnp=cnp)


@pytest.fixture
def citizen():
    return make_citizen("maria")


@pytest.fixture
def browser(client, citizen):
    english(client).force_login(citizen.user)
    return client


def _link(client, national_id: str, number: str):
    return client.post(LINK, {"national_id": national_id, "account_number": number})


def _account_page(client) -> str:
    return client.get(reverse("portal:account")).content.decode()


# --- the form --------------------------------------------------------------------------------


def test_account_page_offers_the_link_form(browser):
    html = _account_page(browser)
    assert 'id="taxes"' in html and "My taxes and fines" in html
    form = html[html.index('action="/account/taxes/link/"') :]
    assert "csrfmiddlewaretoken" in form
    for name in ("national_id", "account_number"):
        assert f'<label for="id_{name}">' in form
        assert f'aria-describedby="id_{name}_hint"' in form
        assert f'id="id_{name}_hint"' in form


def test_the_link_url_is_the_one_the_form_posts_to():
    assert reverse("revenue_portal:link") == LINK


def test_post_without_the_csrf_token_is_refused(citizen, account, cnp):
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen.user)
    response = _link(client, cnp, "R-7001")
    assert response.status_code == 403
    assert not PortalTaxLink.objects.exists()


# --- linking ---------------------------------------------------------------------------------


def test_the_right_pair_links_and_the_balance_is_shown(browser, citizen, account, cnp):
    with time_machine.travel(MAY_15, tick=False):
        response = _link(browser, cnp, "R-7001")
        assert response.status_code == 302
        assert response["Location"] == reverse("portal:account") + "#taxes"
        assert PortalTaxLink.objects.filter(citizen=citizen, account=account).exists()
        html = _account_page(browser)
    assert "Your tax record is linked to your account." in html
    assert DUE_TODAY in html and TOTAL in html and "AB 123456" in html
    assert "You owe today" in html
    assert reverse("revenue_portal:statement", args=[account.pk]) in html
    # The citizen's wording has none of the revenue system's internal data.
    for obligation in account.obligations.all():
        assert obligation.external_id not in html
    assert reverse("revenue:statement", args=[account.pk]) not in html
    # Another record may still be linked (a company the citizen represents).
    assert "Link another tax record" in html


def test_the_pair_is_read_as_people_type_it(browser, citizen, account, cnp):
    spaced = f"{cnp[:1]} {cnp[1:7]} {cnp[7:]}"
    assert _link(browser, spaced, "  r-7001 ").status_code == 302
    assert PortalTaxLink.objects.filter(citizen=citizen, account=account).exists()


def test_linking_twice_is_harmless(browser, citizen, account, cnp):
    _link(browser, cnp, "R-7001")
    assert _link(browser, cnp, "R-7001").status_code == 302
    assert PortalTaxLink.objects.filter(citizen=citizen).count() == 1


@pytest.mark.parametrize("wrong", ["number", "cnp"])
def test_a_wrong_half_gets_one_error_that_does_not_say_which(browser, citizen, account, cnp, wrong):
    national_id = make_cnp(654) if wrong == "cnp" else cnp
    number = "R-7002" if wrong == "number" else "R-7001"
    response = _link(browser, national_id, number)
    assert response.status_code == 400
    html = response.content.decode()
    assert NO_MATCH in html
    assert 'role="alert"' in html
    # Nothing of the account leaks, and no field is singled out.
    assert "POPESCU" not in html and 'aria-invalid="true"' not in html
    assert not PortalTaxLink.objects.exists()
    assert PortalTaxAttempt.objects.filter(citizen=citizen).count() == 1


def test_a_malformed_cnp_is_a_typing_error_not_an_attempt(browser, citizen, account, cnp):
    response = _link(browser, cnp[:-1] + str((int(cnp[-1]) + 1) % 10), "R-7001")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_national_id_hint id_national_id_error"' in html
    assert 'id="id_national_id_error"' in html
    assert not PortalTaxAttempt.objects.exists()


def test_empty_fields_are_marked(browser):
    response = _link(browser, "", "")
    assert response.status_code == 400
    assert response.content.decode().count('aria-invalid="true"') == 2


def test_five_failures_lock_linking_for_an_hour(browser, citizen, account, cnp):
    start = dt.datetime(2026, 5, 15, 10, 0, tzinfo=MAY_15.tzinfo)
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(4):
            assert _link(browser, cnp, "R-9999").status_code == 400
            clock.shift(dt.timedelta(minutes=5))
        fifth = _link(browser, cnp, "R-9999")
        assert fifth.status_code == 429
        assert "locked until 11:20" in fifth.content.decode()
        # Locked: even the right pair is refused, and the form is not offered.
        clock.shift(dt.timedelta(minutes=30))
        refused = _link(browser, cnp, "R-7001")
        assert refused.status_code == 429
        assert "locked until 11:20" in refused.content.decode()
        assert not PortalTaxLink.objects.exists()
        page = _account_page(browser)
        assert "locked until" in page and 'action="/account/taxes/link/"' not in page
        assert PortalTaxAttempt.objects.count() == 5  # refusals while locked are not counted
        # An hour after the fifth failure the right pair links.
        clock.shift(dt.timedelta(minutes=31))
        assert _link(browser, cnp, "R-7001").status_code == 302
    assert PortalTaxLink.objects.filter(citizen=citizen, account=account).exists()


def test_the_lock_is_per_citizen(client, account, cnp):
    first, second = make_citizen("a"), make_citizen("b")
    english(client).force_login(first.user)
    for _ in range(5):
        _link(client, cnp, "R-9999")
    client.force_login(second.user)
    assert _link(client, cnp, "R-7001").status_code == 302


def test_anonymous_is_sent_to_the_portal_login(client, account, cnp):
    response = _link(client, cnp, "R-7001")
    assert response.status_code == 302 and response["Location"] == reverse("portal:account")
    assert not PortalTaxAttempt.objects.exists()


# --- what a citizen can reach --------------------------------------------------------------


def test_citizen_downloads_the_statement_of_a_linked_record(client, citizen, account):
    PortalTaxLink.objects.create(citizen=citizen, account=account)
    client.force_login(citizen.user)
    with time_machine.travel(MAY_15, tick=False):
        response = client.get(reverse("revenue_portal:statement", args=[account.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert DUE_TODAY_RO in text and "R-7001" in text


def test_citizen_gets_404_for_any_other_record(client, citizen, account):
    other = make_taxpayer(external_id="R-7002")
    PortalTaxLink.objects.create(citizen=citizen, account=account)
    PortalTaxLink.objects.create(citizen=make_citizen("neighbour"), account=other)
    client.force_login(citizen.user)
    for account_id in (other.pk, 999_999):
        url = reverse("revenue_portal:statement", args=[account_id])
        assert client.get(url).status_code == 404
    html = _account_page(client)
    assert "R-7002" not in html


def test_citizen_sees_only_linked_records(browser, citizen, account):
    make_taxpayer(external_id="R-7002")
    html = _account_page(browser)
    assert "R-7001" not in html and "R-7002" not in html
    PortalTaxLink.objects.create(citizen=citizen, account=account)
    html = _account_page(browser)
    assert "R-7001" in html and "R-7002" not in html


def test_anonymous_statement_request_goes_to_the_portal_login(client, account):
    response = client.get(reverse("revenue_portal:statement", args=[account.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:account")


def test_account_page_with_a_linked_record_reads_few_queries(
    browser, citizen, account, django_assert_max_num_queries
):
    PortalTaxLink.objects.create(citizen=citizen, account=account)
    with django_assert_max_num_queries(30):
        html = _account_page(browser)
    assert len(re.findall(r"<article class=\"balance\"", html)) == 1
