"""Fixtures of the account security tests: the English interface, 2FA enforced, and a
helper that signs a user in with both factors."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct-horse-9"  # the personas' password (root conftest.make_user)


@pytest.fixture(autouse=True)
def two_factor_on(settings, _no_2fa_by_default):
    """The root conftest turns 2FA off for the rest of the suite; here it is on."""
    settings.CETATEA_2FA_REQUIRED = True
    settings.AXES_ENABLED = True
    cache.clear()  # the per-address failure counter of the sign-in page
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def english_interface(request):
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies["django_language"] = "en"


def code_for(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    """The device's current 6-digit code, as an authenticator app computes it."""
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + offset_steps)
    return f"{value:0{device.digits}d}"


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def password_login(client, username: str, password: str = PASSWORD, *, next_url: str = ""):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/login/", data)


def sign_in_verified(client, user) -> TOTPDevice:
    """Sign ``user`` in with the password and a code from a new authenticator."""
    device = confirmed_device(user)
    response = password_login(client, user.username)
    assert response.status_code == 302, response.content[:500]
    response = client.post("/login/2fa/", {"otp_token": code_for(device)})
    assert response.status_code == 302, response.content[:2000]
    return device
