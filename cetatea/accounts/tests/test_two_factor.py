"""The sign-in with a second factor: enrolment, verification, recovery codes, /admin/."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cetatea.accounts import policy, services
from cetatea.accounts.models import SignIn

from .conftest import code_for, confirmed_device, password_login, sign_in_verified

pytestmark = pytest.mark.django_db


def outcomes(user) -> list[str]:
    rows = SignIn.objects.filter(user=user).order_by("time", "pk")
    return list(rows.values_list("outcome", flat=True))


def test_an_operator_without_an_authenticator_is_sent_to_enrolment(client, personas):
    response = password_login(client, "op", next_url="/staff/people/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/2fa/setup/")
    assert "next=%2Fstaff%2Fpeople%2F" in response["Location"]
    # Signed in with the password only: no staff page, no admin page, until verified.
    for path in ("/staff/people/", "/staff/", "/admin/", "/staff/account/security/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/2fa/"), path
    # A POST is refused too (nothing is changed before the second factor).
    response = client.post("/staff/people/create/", {"last_name": "X"})
    assert response.status_code == 302
    assert response["Location"] == "/login/2fa/"


def test_an_htmx_request_before_the_second_factor_gets_a_client_redirect(client, personas):
    password_login(client, "op")
    response = client.get("/staff/people/", headers={"HX-Request": "true"})
    assert response["HX-Redirect"].startswith("/login/2fa/")


def test_a_citizen_signs_in_without_a_second_factor(client, personas):
    response = password_login(client, "citizen")
    assert response.status_code == 302
    assert not response["Location"].startswith("/login/2fa/")
    assert client.get("/").status_code == 200
    assert not policy.needs_verification(personas["citizen"])


def test_enrolment_with_a_code_from_the_app_shows_ten_recovery_codes_once(client, personas):
    op = personas["operator"]
    password_login(client, "op", next_url="/staff/people/")
    page = client.get("/login/2fa/setup/?next=/staff/people/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "Cetatea" in html
    assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html
    assert "<script" not in html.split("</head>")[1]  # no inline script in the page body
    assert " style=" not in html and not re.search(r"\son[a-z]+=", html)
    device = TOTPDevice.objects.get(user=op, confirmed=False)
    assert services.totp_secret(device) in html  # the key as text, for manual entry
    # Reloading keeps the same secret.
    client.get("/login/2fa/setup/")
    assert TOTPDevice.objects.filter(user=op).count() == 1

    session_before = client.cookies["sessionid"].value
    response = client.post(
        "/login/2fa/setup/", {"otp_token": code_for(device), "next": "/staff/people/"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    codes = re.findall(
        r"<code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code>", response.content.decode()
    )
    assert len(codes) == 10 and len(set(codes)) == 10
    assert 'href="/staff/people/"' in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=op).count() == 10
    assert client.cookies["sessionid"].value != session_before  # id rotated at verification
    assert client.get("/staff/people/").status_code == 200
    assert outcomes(op) == ["success", "2fa_ok"]
    # The setup page is closed now: it cannot replace the authenticator.
    response = client.get("/login/2fa/setup/")
    assert response.status_code == 302


def test_a_wrong_code_at_enrolment_is_refused_and_changes_nothing(client, personas):
    op = personas["operator"]
    password_login(client, "op")
    client.get("/login/2fa/setup/")
    device = TOTPDevice.objects.get(user=op)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post("/login/2fa/setup/", {"otp_token": wrong})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The code is wrong" in html
    assert 'aria-describedby="code-error"' in html and 'id="code-error"' in html
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticToken.objects.filter(device__user=op).exists()
    assert client.get("/staff/people/").status_code == 302
    assert outcomes(op) == ["success", "2fa_failed"]


def test_a_non_numeric_enrolment_code_is_a_clear_error(client, personas):
    password_login(client, "op")
    response = client.post("/login/2fa/setup/", {"otp_token": "12ab"})
    assert response.status_code == 400
    assert "The code has 6 digits." in response.content.decode()


def test_signing_in_with_an_authenticator_code(client, personas):
    op = personas["operator"]
    device = confirmed_device(op)
    response = password_login(client, "op", next_url="/staff/people/")
    assert response["Location"] == "/login/2fa/?next=%2Fstaff%2Fpeople%2F"
    page = client.get(response["Location"])
    assert 'autocomplete="one-time-code"' in page.content.decode()
    response = client.post("/login/2fa/", {"otp_token": code_for(device), "next": "/staff/people/"})
    assert response.status_code == 302 and response["Location"] == "/staff/people/"
    assert client.get("/staff/people/").status_code == 200
    assert outcomes(op) == ["success", "2fa_ok"]


@time_machine.travel("2026-12-04 10:00:00+00:00", tick=False)
def test_a_wrong_code_is_refused_with_a_clear_error(client, personas):
    op = personas["operator"]
    device = confirmed_device(op)
    password_login(client, "op")
    wrong = f"{(int(code_for(device)) + 500_000) % 1_000_000:06d}"
    response = client.post("/login/2fa/", {"otp_token": wrong})
    assert response.status_code == 400
    assert "The code is wrong or was already used" in response.content.decode()
    assert client.get("/staff/people/").status_code == 302
    assert outcomes(op) == ["success", "2fa_failed"]
    # django-otp throttles the device: right after a failure even the right code waits.
    response = client.post("/login/2fa/", {"otp_token": code_for(device)})
    assert response.status_code == 400
    assert "Too many wrong codes" in response.content.decode()


def test_an_external_next_url_is_ignored(client, personas):
    device = confirmed_device(personas["operator"])
    password_login(client, "op")
    response = client.post(
        "/login/2fa/", {"otp_token": code_for(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/staff/people/"


def test_a_recovery_code_works_once_only(client, personas):
    op = personas["operator"]
    confirmed_device(op)
    codes = services.recovery_codes_generate(user=op)
    password_login(client, "op")
    response = client.post("/login/2fa/", {"otp_token": codes[0].upper()})
    assert response.status_code == 302
    assert client.get("/staff/people/").status_code == 200
    assert StaticToken.objects.filter(device__user=op).count() == 9
    client.post("/logout/")

    password_login(client, "op")
    response = client.post("/login/2fa/", {"otp_token": codes[0]})
    assert response.status_code == 400
    assert client.get("/staff/people/").status_code == 302
    # Another code still works (after the device's short throttling delay).
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=5)):
        response = client.post("/login/2fa/", {"otp_token": codes[1]})
    assert response.status_code == 302


def test_five_wrong_codes_lock_the_account_out(client, personas, settings):
    op = personas["operator"]
    device = confirmed_device(op)
    password_login(client, "op")
    start = timezone.now()
    response = None
    for i in range(5):
        # Past django-otp's growing delay, so that each wrong code is checked and counted.
        with time_machine.travel(start + dt.timedelta(seconds=40 * 2**i), tick=False):
            wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
            response = client.post("/login/2fa/", {"otp_token": wrong})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    # Signed out, and the password alone is refused now.
    assert client.get("/staff/people/")["Location"].startswith("/login/")
    with time_machine.travel(start + dt.timedelta(seconds=700), tick=False):
        response = password_login(client, "op")
    assert response.status_code == 429


def test_the_admin_site_needs_the_second_factor(client, personas):
    admin = personas["admin"]
    response = client.post("/admin/login/", {"username": "admin", "password": "correct-horse-9"})
    assert response.status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/2fa/")
    device = confirmed_device(admin)
    client.post("/login/2fa/", {"otp_token": code_for(device)})
    assert client.get("/admin/").status_code == 200


def test_the_switch_turns_enforcement_off(client, personas, settings):
    settings.CETATEA_2FA_REQUIRED = False
    response = password_login(client, "op", next_url="/staff/people/")
    assert response["Location"] == "/staff/people/"
    assert client.get("/staff/people/").status_code == 200


def test_sign_out_and_the_language_switch_work_before_the_second_factor(client, personas):
    op = personas["operator"]
    password_login(client, "op")
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    response = client.post("/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert outcomes(op)[-1] == "logout"


def test_an_admin_verified_session_is_dropped_when_the_device_is_reset(client, personas):
    op = personas["operator"]
    sign_in_verified(client, op)
    assert client.get("/staff/people/").status_code == 200
    services.two_factor_reset(actor=personas["admin"], user_id=op.pk, ip_address=None)
    response = client.get("/staff/people/")
    assert response.status_code == 302 and response["Location"].startswith("/login/2fa/")
    assert client.get("/login/2fa/")["Location"].startswith("/login/2fa/setup/")


def test_force_login_users_elsewhere_are_unaffected_when_2fa_is_off(client, settings, db):
    settings.CETATEA_2FA_REQUIRED = False
    user = User.objects.create_user("x", is_staff=True, is_superuser=True)
    client.force_login(user)
    assert client.get("/admin/").status_code == 200
