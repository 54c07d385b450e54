"""Writes of staff account security: the sign-in log, enrolment of an authenticator,
recovery codes, and an administrator's reset and unlock (both audited)."""

from __future__ import annotations

import base64
import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cetatea.accounts.choices import Outcome
from cetatea.accounts.models import USER_AGENT_LENGTH, SignIn
from cetatea.core.clientip import client_ip
from cetatea.core.models import AuditLog

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery codes"


def signin_record(*, request, outcome: str, user=None, username: str = "") -> SignIn:
    """Append one row to the sign-in log."""
    if user is not None and not username:
        username = user.get_username()
    return SignIn.objects.create(
        user=user if user is not None and user.pk else None,
        username=(username or "")[:150],
        ip_address=client_ip(request) if request is not None else None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[
            :USER_AGENT_LENGTH
        ],
        outcome=outcome,
    )


# --- Enrolment ---------------------------------------------------------------------------


def totp_device_pending(*, user) -> TOTPDevice:
    """The user's unconfirmed authenticator, created on first use. Its key is what the QR
    code shows; it is replaced by nothing until confirmed, so reloading the page keeps the
    same secret."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_secret(device: TOTPDevice) -> str:
    """The key in base32, grouped by four, for typing into an authenticator app."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _random_recovery_code() -> str:
    # 10 random bytes: 16 base32 characters (django-otp's StaticToken holds 16), 80 bits.
    return base64.b32encode(secrets.token_bytes(10)).decode().lower()


def recovery_codes_generate(*, user) -> list[str]:
    """Replace the user's recovery codes with ten new one-time codes; return them (they
    are shown once and never again)."""
    codes = [_random_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        device = StaticDevice.objects.filter(user=user).order_by("pk").first()
        if device is None:
            device = StaticDevice.objects.create(
                user=user, name=RECOVERY_DEVICE_NAME, confirmed=True
            )
        StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        StaticToken.objects.filter(device=device).delete()
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return [f"{c[:4]}-{c[4:8]}-{c[8:12]}-{c[12:]}" for c in codes]


def normalise_code(token: str) -> str:
    """A code as typed: spaces and dashes dropped, lower case."""
    return "".join(ch for ch in (token or "") if ch.isalnum()).lower()


def _verified(request, device) -> None:
    """Mark the session verified by ``device`` and give it a new id (ASVS 3.2.1)."""
    otp_login(request, device)
    request.session.cycle_key()


def totp_enrol_confirm(*, request, device_id: int, token: str) -> list[str] | None:
    """Confirm the pending authenticator with a code from it. On success the session is
    verified and ten recovery codes are returned; on a wrong code, None."""
    user = request.user
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(pk=device_id, user=user, confirmed=False)
            .first()
        )
        if device is None or not device.verify_token(normalise_code(token)):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # Any older authenticator of this account goes: one confirmed device at a time.
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = recovery_codes_generate(user=user)
    _verified(request, device)
    signin_record(request=request, outcome=Outcome.TWO_FACTOR_OK, user=user)
    return codes


# --- Verification at sign-in ---------------------------------------------------------------


class Throttled(Exception):
    """The device refuses codes for a while after wrong ones (django-otp's throttling)."""

    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


def _wait_seconds(device) -> int | None:
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    locked_until = (data or {}).get("locked_until")
    if locked_until is None:
        return 1
    return max(1, int((locked_until - timezone.now()).total_seconds()) + 1)


def second_factor_verify(*, request, token: str) -> bool:
    """Check a 6-digit authenticator code or a recovery code for the signed-in user.

    A recovery code is used up. On success the session is verified (and its id rotated);
    every attempt is logged. Raises ``Throttled`` while the device refuses codes.
    """
    user = request.user
    code = normalise_code(token)
    model = TOTPDevice if code.isdigit() else StaticDevice
    ok = False
    with transaction.atomic():
        device = (
            model.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk")
        ).first()
        if device is not None:
            wait = _wait_seconds(device)
            if wait is not None:
                raise Throttled(wait)
            ok = device.verify_token(code)
    if ok:
        _verified(request, device)
        signin_record(request=request, outcome=Outcome.TWO_FACTOR_OK, user=user)
    else:
        signin_record(request=request, outcome=Outcome.TWO_FACTOR_FAILED, user=user)
    return ok


# --- An administrator's actions ----------------------------------------------------------


def two_factor_reset(*, actor, user_id: int, ip_address: str | None, reason: str = "") -> None:
    """Remove an account's authenticator and recovery codes: at the next sign-in its owner
    enrols again. Sessions verified by the removed device stop being verified."""
    target = get_user_model().objects.get(pk=user_id)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=target).delete()
        StaticDevice.objects.filter(user=target).delete()
        AuditLog.objects.create(
            actor=actor,
            action=AuditLog.Action.ACCOUNT_2FA_RESET,
            object_repr=target.get_username()[:200],
            reason=reason[:300],
            ip_address=ip_address,
            details={"user_id": target.pk},
        )


def account_unlock(*, actor, username: str, ip_address: str | None, reason: str = "") -> int:
    """Clear the failed sign-in attempts of ``username`` (every address): the lock-out
    ends now. Returns how many attempt records were removed."""
    from axes.utils import reset

    with transaction.atomic():
        removed = reset(username=username)
        AuditLog.objects.create(
            actor=actor,
            action=AuditLog.Action.ACCOUNT_UNLOCKED,
            object_repr=username[:200],
            reason=reason[:300],
            ip_address=ip_address,
            details={"attempts_removed": removed},
        )
    return removed
