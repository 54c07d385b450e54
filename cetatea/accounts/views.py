"""Sign-in with a second factor, enrolment, the "Account security" page, and an
administrator's reset and unlock. Views stay thin: services write, selectors read."""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from cetatea.accounts import policy, selectors, services
from cetatea.accounts.choices import Outcome
from cetatea.accounts.forms import (
    AccountSearchForm,
    AdminActionForm,
    CodeForm,
    EnrolForm,
    PasswordConfirmForm,
)
from cetatea.core.clientip import client_ip


def _next_url(request) -> str:
    """The page asked for before signing in, if it is ours; else the staff home page."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _with_next(url: str, request) -> str:
    nxt = request.POST.get("next") or request.GET.get("next")
    return f"{url}?{urlencode({'next': nxt})}" if nxt else url


def lockout_response(request, response=None, credentials=None, *, address_only=False):
    """What django-axes answers to a locked-out sign-in (AXES_LOCKOUT_CALLABLE): the sign-in
    page with the reason, HTTP 429. ``address_only``: the per-address limit, not axes."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "accounts/login.html",
        {
            "form": auth_views.AuthenticationForm(request),
            "locked_out": True,
            "address_only": address_only,
            "cooloff_minutes": minutes,
            "next": _next_url(request),
        },
        status=429,
    )


def _count_failure(request) -> bool:
    """Count a wrong second factor (or a wrong password on the security page) as a
    failed sign-in of this account from this address, like a wrong password, so that
    django-axes locks it out after CETATEA_LOGIN_FAILURE_LIMIT. True when now locked."""
    if not settings.AXES_ENABLED:
        return False
    AxesProxyHandler.user_login_failed(
        sender=__name__, credentials={"username": request.user.get_username()}, request=request
    )
    return bool(getattr(request, "axes_locked_out", False))


def _locked_out_now(request):
    request.cetatea_signout_outcome = Outcome.LOCKED_OUT
    logout(request)
    return lockout_response(request)


# Failed sign-ins from one address, whatever the accounts tried (password spraying): past
# this, the address gets no answer but 429 until the window ends. Per account and address,
# django-axes locks sooner (AXES_FAILURE_LIMIT); this limit is high so that a whole office
# behind one NAT address is not locked out by a few typos.
IP_FAILURE_RATE = "50/15m"
IP_FAILURE_GROUP = "accounts.login_ip_failures"


def _ip_limited(request, *, increment: bool) -> bool:
    return is_ratelimited(
        request, group=IP_FAILURE_GROUP, key="ip", rate=IP_FAILURE_RATE, increment=increment
    )


class LoginView(auth_views.LoginView):
    """The password step. An account that needs a second factor goes on to it."""

    template_name = "accounts/login.html"

    def post(self, request, *args, **kwargs):
        if _ip_limited(request, increment=False):
            services.signin_record(
                request=request,
                outcome=Outcome.LOCKED_OUT,
                username=request.POST.get("username", ""),
            )
            return lockout_response(request, address_only=True)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        _ip_limited(self.request, increment=True)
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)  # logs in: the session id is rotated
        user = form.get_user()
        if policy.needs_verification(user):
            target = "accounts:verify" if selectors.has_confirmed_totp(user) else "accounts:setup"
            return HttpResponseRedirect(_with_next(reverse(target), self.request))
        return response


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request):
    """The second step: a code from the authenticator app or a recovery code."""
    user = request.user
    if not user.is_authenticated:
        return redirect(_with_next(reverse("login"), request))
    if user.is_verified():
        return redirect(_next_url(request))
    if not selectors.has_confirmed_totp(user):
        return redirect(_with_next(reverse("accounts:setup"), request))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                ok = services.second_factor_verify(
                    request=request, token=form.cleaned_data["otp_token"]
                )
            except services.Throttled as exc:
                form.add_error(
                    "otp_token",
                    _("Too many wrong codes. Wait %(seconds)d seconds and try again.")
                    % {"seconds": exc.seconds},
                )
            else:
                if ok:
                    return redirect(_next_url(request))
                if _count_failure(request):
                    return _locked_out_now(request)
                form.add_error("otp_token", _("The code is wrong or was already used. Try again."))
    return render(
        request, "accounts/verify.html", {"form": form, "next": _next_url(request)}, status=status
    )


@never_cache
@require_http_methods(["GET", "POST"])
def setup(request):
    """Enrolment of an authenticator app: QR code, the secret as text, a code to confirm."""
    user = request.user
    if not user.is_authenticated:
        return redirect(_with_next(reverse("login"), request))
    if not policy.is_staff_account(user):
        return redirect(_next_url(request))
    if selectors.has_confirmed_totp(user):
        return redirect(_with_next(reverse("accounts:verify"), request))
    device = services.totp_device_pending(user=user)
    form = EnrolForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            codes = services.totp_enrol_confirm(
                request=request, device_id=device.pk, token=form.cleaned_data["otp_token"]
            )
            if codes is not None:
                return render(
                    request,
                    "accounts/recovery_codes.html",
                    {"codes": codes, "continue_url": _next_url(request), "enrolled": True},
                )
            services.signin_record(request=request, outcome=Outcome.TWO_FACTOR_FAILED, user=user)
            if _count_failure(request):
                return _locked_out_now(request)
            form.add_error(
                "otp_token",
                _("The code is wrong. Check the time on your phone and type the newest code."),
            )
    qr = segno.make(device.config_url, error="m")
    context = {
        "form": form,
        "next": _next_url(request),
        "qr_svg": qr.svg_inline(scale=4, border=4, light="#fff", title=_("QR code")),
        "secret": services.totp_secret(device),
        "config_url": device.config_url,
    }
    return render(request, "accounts/setup.html", context, status=status)


def _security_context(request, **extra) -> dict:
    page = selectors.signin_page(
        request.user,
        cursor=request.GET.get("before", ""),
        page_size=settings.CETATEA_PAGE_SIZE,
    )
    return {
        "status": selectors.two_factor_status(request.user),
        "signins": page,
        "can_manage": request.user.has_perm(selectors.MANAGE_PERMISSION),
        "required": policy.requires_2fa(request.user),
        **extra,
    }


@login_required
@require_http_methods(["GET"])
def security(request):
    """The "Account security" page: my second factor, my recovery codes, my sign-ins."""
    template = "accounts/_signins.html" if request.htmx else "accounts/security.html"
    context = _security_context(request, form=PasswordConfirmForm(user=request.user))
    return render(request, template, context)


@never_cache
@login_required
@require_POST
def recovery_codes(request):
    """New recovery codes (the old ones stop working); needs the current password."""
    if not policy.is_staff_account(request.user):
        raise PermissionDenied
    form = PasswordConfirmForm(request.POST, user=request.user)
    if not selectors.has_confirmed_totp(request.user):
        messages.error(request, _("Set up an authenticator app first."))
        return redirect("accounts:security")
    if not form.is_valid():
        if "password" in form.errors and request.POST.get("password") and _count_failure(request):
            return _locked_out_now(request)
        context = _security_context(request, form=form)
        return render(request, "accounts/security.html", context, status=400)
    codes = services.recovery_codes_generate(user=request.user)
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "continue_url": reverse("accounts:security"), "enrolled": False},
    )


# --- Administrators ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def account_list(request):
    selectors.access_account_admin(request.user)
    form = AccountSearchForm(request.GET or None)
    q = after = ""
    if form.is_valid():
        q, after = form.cleaned_data["q"], form.cleaned_data["after"]
    page = selectors.staff_account_page(q=q, after=after, page_size=settings.CETATEA_PAGE_SIZE)
    return render(
        request,
        "accounts/account_list.html",
        {"form": form, "page": page, "q": q, "action_form": AdminActionForm()},
    )


def _admin_action(request, user_id: int, action) -> HttpResponseRedirect:
    target = selectors.access_managed_account(request.user, user_id)
    form = AdminActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["reason"][0])
    else:
        action(target, form.cleaned_data["reason"])
    return redirect(_with_next(reverse("accounts:account_list"), request))


@login_required
@require_POST
def account_reset_2fa(request, user_id: int):
    def reset(target, reason):
        services.two_factor_reset(
            actor=request.user,
            user_id=target.pk,
            ip_address=client_ip(request),
            reason=reason,
        )
        messages.success(
            request,
            _("The two-factor setup of %(user)s was removed: they set it up again at sign-in.")
            % {"user": target.get_username()},
        )

    return _admin_action(request, user_id, reset)


@login_required
@require_POST
def account_unlock(request, user_id: int):
    def unlock(target, reason):
        services.account_unlock(
            actor=request.user,
            username=target.get_username(),
            ip_address=client_ip(request),
            reason=reason,
        )
        messages.success(
            request, _("%(user)s can sign in again.") % {"user": target.get_username()}
        )

    return _admin_action(request, user_id, unlock)
