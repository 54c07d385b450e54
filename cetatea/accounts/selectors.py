"""Reads of staff account security, and who may manage other accounts."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cetatea.accounts.models import SignIn

MANAGE_PERMISSION = "accounts.manage_account_security"


def access_account_admin(user) -> None:
    """Raise PermissionDenied unless ``user`` may reset another account's second factor
    and unlock it (the administrator role, or a superuser)."""
    if not user.is_authenticated:
        raise PermissionDenied
    if not user.is_active:
        raise PermissionDenied
    if not user.has_perm(MANAGE_PERMISSION):
        raise PermissionDenied


def access_managed_account(actor, user_id: int):
    """The account ``actor`` manages, or PermissionDenied / Http404."""
    access_account_admin(actor)
    return get_object_or_404(get_user_model(), pk=user_id)


@dataclass
class TwoFactorStatus:
    enrolled: bool
    since: object = None
    last_used: object = None
    recovery_codes_left: int = 0


def two_factor_status(user) -> TwoFactorStatus:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()
    if device is None:
        return TwoFactorStatus(enrolled=False)
    return TwoFactorStatus(
        enrolled=True,
        since=device.created_at,
        last_used=device.last_used_at,
        recovery_codes_left=StaticToken.objects.filter(
            device__user=user, device__confirmed=True
        ).count(),
    )


def has_confirmed_totp(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@dataclass
class SignInPage:
    rows: list = field(default_factory=list)
    next_cursor: str = ""


def signin_page(user, *, cursor: str = "", page_size: int = 25) -> SignInPage:
    """One page of ``user``'s sign-in log, newest first, keyset-paginated on the
    (user, -time) index: a page costs the same whatever the log's length."""
    qs = SignIn.objects.filter(user=user)
    if cursor:
        at_s, _sep, id_s = cursor.partition("|")
        at = parse_datetime(at_s)
        if at is not None and id_s.isdigit():
            qs = qs.filter(Q(time__lt=at) | Q(time=at, pk__lt=int(id_s)))
    rows = list(qs.order_by("-time", "-pk")[: page_size + 1])
    page = rows[:page_size]
    next_cursor = f"{page[-1].time.isoformat()}|{page[-1].pk}" if len(rows) > page_size else ""
    return SignInPage(rows=page, next_cursor=next_cursor)


@dataclass
class AccountPage:
    rows: list = field(default_factory=list)
    next_after: str = ""


def _lock_threshold():
    cooloff = settings.AXES_COOLOFF_TIME
    return timezone.now() - cooloff if cooloff else None


def locked_usernames(usernames: list[str]) -> set[str]:
    """Which of these accounts are locked out now (from at least one address)."""
    from axes.models import AccessAttempt

    qs = AccessAttempt.objects.filter(
        username__in=usernames, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    )
    threshold = _lock_threshold()
    if threshold is not None:
        qs = qs.filter(attempt_time__gte=threshold)
    return set(qs.values_list("username", flat=True))


def staff_account_page(*, q: str = "", after: str = "", page_size: int = 25) -> AccountPage:
    """Staff accounts (a role, staff or superuser) by user name, a page at a time, with
    whether each has an authenticator and whether it is locked out now."""
    User = get_user_model()
    qs = User.objects.filter(Q(is_staff=True) | Q(is_superuser=True) | Q(groups__isnull=False))
    if q:
        qs = qs.filter(username__istartswith=q)
    if after:
        qs = qs.filter(username__gt=after)
    qs = qs.annotate(has_2fa=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
    rows = list(qs.distinct().order_by("username")[: page_size + 1])
    page = rows[:page_size]
    locked = locked_usernames([u.username for u in page])
    for user in page:
        user.locked_out = user.username in locked
    return AccountPage(rows=page, next_after=page[-1].username if len(rows) > page_size else "")
