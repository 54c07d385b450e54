"""The sign-in log, fed by Django's authentication signals.

Connected in AccountsConfig.ready. The second-factor views write their own rows
(services.second_factor_verify); these receivers cover the password step and sign-out.
"""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from cetatea.accounts.choices import Outcome
from cetatea.accounts.middleware import LAST_SEEN_KEY
from cetatea.accounts.services import signin_record


def on_logged_in(sender, request, user, **kwargs) -> None:
    signin_record(request=request, outcome=Outcome.SUCCESS, user=user)
    # The idle clock starts at sign-in (and the first page then needs no session write).
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN_KEY] = int(time.time())


def on_logged_out(sender, request, user, **kwargs) -> None:
    if user is None:  # an anonymous visitor pressed "sign out"
        return
    outcome = getattr(request, "cetatea_signout_outcome", Outcome.LOGOUT)
    signin_record(request=request, outcome=outcome, user=user)


def _refused_by_lockout(request) -> bool:
    # django-axes marks a request it refused before the password was checked: locked out,
    # and no failure counted for it (axes_failures_since_start stays None). The attempt
    # that reaches the limit had its password checked: that one is a bad password.
    return bool(getattr(request, "axes_locked_out", False)) and (
        getattr(request, "axes_failures_since_start", None) is None
    )


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str((credentials or {}).get("username") or "")[:150]
    user = get_user_model().objects.filter(username=username).first() if username else None
    outcome = Outcome.LOCKED_OUT if _refused_by_lockout(request) else Outcome.BAD_PASSWORD
    signin_record(request=request, outcome=outcome, user=user, username=username)


def connect() -> None:
    user_logged_in.connect(on_logged_in, dispatch_uid="cetatea.accounts.signin")
    user_logged_out.connect(on_logged_out, dispatch_uid="cetatea.accounts.signout")
    user_login_failed.connect(on_login_failed, dispatch_uid="cetatea.accounts.failed")
