"""Two middlewares of staff account security.

- ``TwoFactorMiddleware``: a signed-in user whose role sees personal data (policy.
  requires_2fa) reaches nothing but the sign-in, second-factor and sign-out pages until
  the session is verified by a second factor. Covers /staff/ and /admin/ alike.
- ``IdleTimeoutMiddleware``: a staff session unused for CETATEA_SESSION_IDLE_SECONDS is
  signed out (the absolute limit is SESSION_COOKIE_AGE).

Both go after django_otp's OTPMiddleware and Django's MessageMiddleware.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from cetatea.accounts import policy
from cetatea.accounts.choices import Outcome

LAST_SEEN_KEY = "cetatea_last_seen"
# The last-activity time is written at most this often, so that a busy page does not
# save the session on every request.
LAST_SEEN_RESOLUTION = 30

# Reachable before the second factor: signing in (and its 2FA steps under /login/),
# signing out, static files, the language switch, the health check.
ALLOWED_PREFIXES = ("/login/", "/logout/", "/static/", "/i18n/", "/healthz")


def _redirect(request, url: str):
    # The header itself: django-htmx's middleware may come after this one.
    if request.headers.get("HX-Request") == "true":
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def _next_query(request) -> str:
    if request.method == "GET":
        return "?" + urlencode({"next": request.get_full_path()})
    return ""


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path_info.startswith(ALLOWED_PREFIXES)
            and policy.needs_verification(user)
        ):
            return _redirect(request, reverse("accounts:verify") + _next_query(request))
        return self.get_response(request)


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and policy.is_staff_account(user):
            limit = settings.CETATEA_SESSION_IDLE_SECONDS
            now = int(time.time())
            last = request.session.get(LAST_SEEN_KEY)
            if limit > 0 and isinstance(last, int) and now - last > limit:
                request.cetatea_signout_outcome = Outcome.IDLE_TIMEOUT
                next_query = _next_query(request)
                logout(request)
                messages.info(
                    request,
                    _("You were signed out after %(minutes)d minutes without activity.")
                    % {"minutes": max(1, limit // 60)},
                )
                return _redirect(request, reverse("login") + next_query)
            if not isinstance(last, int) or now - last >= LAST_SEEN_RESOLUTION:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)
