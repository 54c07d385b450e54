"""Lock-out after failed sign-ins, an administrator's unlock and 2FA reset (audited), the
idle timeout, the sign-in log and the "Account security" page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from axes.models import AccessAttempt
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cetatea.accounts import services
from cetatea.accounts.models import SignIn
from cetatea.core.models import AuditLog

from .conftest import PASSWORD, code_for, confirmed_device, password_login, sign_in_verified

pytestmark = pytest.mark.django_db


def test_five_bad_passwords_lock_the_account_and_the_right_one_is_then_refused(client, personas):
    for _ in range(4):
        response = password_login(client, "op", "wrong-password-1")
        assert response.status_code == 200
        assert "The user name or the password is wrong." in response.content.decode()
    response = password_login(client, "op", "wrong-password-1")  # the fifth locks
    assert response.status_code == 429
    response = password_login(client, "op", PASSWORD)
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed sign-ins" in html and "15 minutes" in html
    assert "_auth_user_id" not in client.session
    rows = list(
        SignIn.objects.filter(username="op").order_by("time", "pk").values_list("outcome", "user")
    )
    assert rows == [("bad_password", personas["operator"].pk)] * 5 + [
        ("locked_out", personas["operator"].pk)
    ]
    # Another account from the same address is not locked.
    assert password_login(client, "clerk", PASSWORD).status_code == 302


def test_the_lock_ends_after_the_cool_off(client, personas):
    start = timezone.now()
    for _ in range(5):
        password_login(client, "op", "wrong-password-1")
    with time_machine.travel(start + dt.timedelta(minutes=16)):
        assert password_login(client, "op", PASSWORD).status_code == 302


def test_an_administrator_unlocks_an_account_and_it_is_audited(client, personas):
    op, admin = personas["operator"], personas["admin"]
    for _ in range(5):
        password_login(client, "op", "wrong-password-1")
    assert AccessAttempt.objects.filter(username="op").exists()

    sign_in_verified(client, admin)
    page = client.get("/staff/account/users/?q=o")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Unlock op" in html
    response = client.post(f"/staff/account/users/{op.pk}/unlock/", {"reason": "phoned the desk"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="op").exists()
    audit = AuditLog.objects.get(action=AuditLog.Action.ACCOUNT_UNLOCKED)
    assert audit.actor == admin and audit.object_repr == "op" and audit.reason == "phoned the desk"
    client.post("/logout/")
    assert password_login(client, "op", PASSWORD).status_code == 302


def test_an_unlock_without_a_reason_changes_nothing(client, personas):
    op = personas["operator"]
    for _ in range(5):
        password_login(client, "op", "wrong-password-1")
    sign_in_verified(client, personas["admin"])
    response = client.post(f"/staff/account/users/{op.pk}/unlock/", {"reason": ""}, follow=True)
    assert "Say why" in response.content.decode()
    assert AccessAttempt.objects.filter(username="op").exists()
    assert not AuditLog.objects.filter(action=AuditLog.Action.ACCOUNT_UNLOCKED).exists()


def test_an_administrator_resets_another_accounts_2fa_and_it_is_audited(client, personas):
    op, admin = personas["operator"], personas["admin"]
    confirmed_device(op)
    services.recovery_codes_generate(user=op)
    sign_in_verified(client, admin)
    assert "Reset two-factor of op" in client.get("/staff/account/users/").content.decode()
    response = client.post(
        f"/staff/account/users/{op.pk}/reset-2fa/", {"reason": "lost phone, ticket 42"}
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=op).exists()
    assert not StaticToken.objects.filter(device__user=op).exists()
    audit = AuditLog.objects.get(action=AuditLog.Action.ACCOUNT_2FA_RESET)
    assert audit.actor == admin and audit.object_repr == "op"
    assert audit.reason == "lost phone, ticket 42" and audit.details == {"user_id": op.pk}
    assert audit.ip_address == "127.0.0.1"


@pytest.mark.parametrize("persona", ["operator", "manager", "clerk"])
def test_only_administrators_reset_or_unlock_others(client, personas, persona):
    user, target = personas[persona], personas["staff"]
    confirmed_device(target)
    sign_in_verified(client, user)
    assert client.get("/staff/account/users/").status_code == 403
    response = client.post(f"/staff/account/users/{target.pk}/reset-2fa/", {"reason": "x"})
    assert response.status_code == 403
    assert (
        client.post(f"/staff/account/users/{target.pk}/unlock/", {"reason": "x"}).status_code == 403
    )
    assert TOTPDevice.objects.filter(user=target).exists()
    assert not AuditLog.objects.filter(action__startswith="account_").exists()


def test_the_account_list_is_paginated_with_a_bounded_number_of_queries(
    client, personas, settings, django_assert_max_num_queries
):
    from cetatea.core import roles
    from conftest import make_user

    for i in range(30):
        make_user(f"zz-clerk-{i:02d}", roles.REGISTRY_CLERK)
    sign_in_verified(client, personas["admin"])
    settings.CETATEA_PAGE_SIZE = 10
    with django_assert_max_num_queries(12):
        page = client.get("/staff/account/users/?q=zz")
    html = page.content.decode()
    assert html.count("zz-clerk-") >= 10 and "zz-clerk-10" not in html
    assert "after=zz-clerk-09" in html
    page = client.get("/staff/account/users/?q=zz&after=zz-clerk-09")
    assert "zz-clerk-10" in page.content.decode() and "zz-clerk-09<" not in page.content.decode()


def test_an_idle_staff_session_is_signed_out(client, personas, settings):
    settings.CETATEA_SESSION_IDLE_SECONDS = 600
    op = personas["operator"]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in_verified(client, op)
        assert client.get("/staff/people/").status_code == 200
    with time_machine.travel(start + dt.timedelta(seconds=500), tick=False):
        assert client.get("/staff/people/").status_code == 200  # activity: the clock restarts
    with time_machine.travel(start + dt.timedelta(seconds=1000), tick=False):
        assert client.get("/staff/people/").status_code == 200
    with time_machine.travel(start + dt.timedelta(seconds=1700), tick=False):
        response = client.get("/staff/people/")
        assert response.status_code == 302
        assert response["Location"] == "/login/?next=%2Fstaff%2Fpeople%2F"
        assert "_auth_user_id" not in client.session
        page = client.get(response["Location"])
    assert "signed out after 10 minutes without activity" in page.content.decode()
    assert SignIn.objects.filter(user=op).latest("time").outcome == "idle_timeout"


def test_a_citizen_session_has_no_idle_timeout(client, personas, settings):
    settings.CETATEA_SESSION_IDLE_SECONDS = 60
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(personas["citizen"])
        client.get("/")
    with time_machine.travel(start + dt.timedelta(seconds=3600), tick=False):
        client.get("/")
        assert "_auth_user_id" in client.session


def test_the_sign_in_log_records_each_step(client, personas):
    op = personas["operator"]
    password_login(client, "nobody-here", "wrong-password-1")
    device = confirmed_device(op)
    password_login(client, "op")
    client.post("/login/2fa/", {"otp_token": code_for(device)})
    client.post("/logout/", headers={"user-agent": "Firefox " + "x" * 400})
    unknown = SignIn.objects.get(username="nobody-here")
    assert unknown.user is None and unknown.outcome == "bad_password"
    assert unknown.ip_address == "127.0.0.1"
    rows = SignIn.objects.filter(user=op).order_by("time", "pk")
    assert [r.outcome for r in rows] == ["success", "2fa_ok", "logout"]
    assert len(rows.last().user_agent) == 300 and rows.last().user_agent.startswith("Firefox")


def test_the_sign_in_log_is_append_only_but_the_retention_job_can_delete(personas):
    row = SignIn.objects.create(username="op", outcome="success", user=personas["operator"])
    with pytest.raises(PermissionError):
        SignIn.objects.filter(pk=row.pk).update(outcome="logout")
    row.outcome = "logout"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    SignIn.objects.filter(time__lt=timezone.now() + dt.timedelta(days=1)).delete()
    assert not SignIn.objects.exists()


def test_the_security_page_shows_my_status_and_my_sign_ins_page_by_page(
    client, personas, settings, django_assert_max_num_queries
):
    op = personas["operator"]
    sign_in_verified(client, op)
    for i in range(30):
        SignIn.objects.create(
            user=op,
            username="op",
            outcome="bad_password",
            time=timezone.now() - dt.timedelta(days=1, minutes=i),
        )
    SignIn.objects.create(user=personas["clerk"], username="clerk", outcome="success")
    settings.CETATEA_PAGE_SIZE = 10
    with django_assert_max_num_queries(15):
        page = client.get("/staff/account/security/")
    html = page.content.decode()
    assert "Two-factor authentication" in html and "On: an authenticator app" in html
    assert html.count("<tr><td>") == 10
    assert "Two-factor code accepted" in html  # the newest first
    assert "clerk" not in html.split("My last sign-ins")[1]
    older = re.search(r'href="\?before=([^"]+)"', html).group(1)
    page2 = client.get(f"/staff/account/security/?before={older}").content.decode()
    assert page2.count("<tr><td>") == 10 and "Two-factor code accepted" not in page2


def test_new_recovery_codes_need_the_password_and_replace_the_old_ones(client, personas):
    op = personas["operator"]
    sign_in_verified(client, op)
    old = services.recovery_codes_generate(user=op)
    response = client.post("/staff/account/security/recovery-codes/", {"password": "nope-nope-1"})
    assert response.status_code == 400
    html = response.content.decode()
    assert (
        "The password is wrong." in html and 'aria-describedby="regen-hint password-error"' in html
    )
    assert StaticToken.objects.filter(device__user=op, token=old[0].replace("-", "")).exists()

    response = client.post("/staff/account/security/recovery-codes/", {"password": PASSWORD})
    assert response.status_code == 200
    new = re.findall(r"<code>([a-z2-7-]{19})</code>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    tokens = set(StaticToken.objects.filter(device__user=op).values_list("token", flat=True))
    assert tokens == {c.replace("-", "") for c in new}


def test_the_per_address_limit_refuses_password_spraying(client, personas, monkeypatch):
    from cetatea.accounts import views

    monkeypatch.setattr(views, "IP_FAILURE_RATE", "3/15m")
    for i in range(4):  # past the limit of 3: the next is refused
        password_login(client, f"someone-{i}", "wrong-password-1")
    response = password_login(client, "clerk", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins from this address" in response.content.decode()
    assert "_auth_user_id" not in client.session
