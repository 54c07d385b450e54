"""The citizen's "Phone PIN" page: change the phone robot PIN, knowing the current one.

A first PIN is only issued at the city hall counter, where staff see the identity card;
this page says so when there is none. A wrong current PIN is refused and counted: after
``WRONG_PIN_RATE`` the page refuses for the rest of the hour (per login), on top of the
per-address limit of every form of the portal. Changing the PIN unlocks nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import get_usage
from django_ratelimit.decorators import ratelimit

from cetatea.core.clientip import client_ip
from cetatea.revenue.selectors import citizen_of
from cetatea.telephony.forms import RobotPinChangeForm
from cetatea.telephony.robot import pins
from cetatea.telephony.robot.selectors import robot_pin_status

WRONG_PIN_RATE = "5/h"  # wrong current PINs per login and hour
POST_RATE = "30/h"  # submits per address and hour


def _too_many_wrong(request, *, count_one: bool = False) -> bool:
    usage = get_usage(
        request,
        group="portal.phone_pin.wrong",
        key="user",
        rate=WRONG_PIN_RATE,
        method="POST",
        increment=count_one,
    )
    return usage is not None and usage["count"] >= usage["limit"]


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=POST_RATE, method="POST", block=False)
@never_cache
def phone_pin(request):
    if not request.user.is_authenticated:
        return redirect("portal:account")
    citizen = citizen_of(request.user)
    if citizen is None:
        raise PermissionDenied
    form = RobotPinChangeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if getattr(request, "limited", False) or _too_many_wrong(request):
            form.is_valid()
            form.add_error(None, _("Too many attempts; try again in an hour."))
            status = 429
        elif form.is_valid():
            try:
                pins.robot_pin_change(
                    person=citizen.person,
                    user=request.user,
                    current=form.cleaned_data["current"],
                    new=form.cleaned_data["pin"],
                    ip_address=client_ip(request),
                )
            except ValidationError as exc:
                status = 400
                if hasattr(exc, "error_dict"):
                    codes = {e.code for e in exc.error_dict.get("current", [])}
                    if "wrong_pin" in codes:
                        _too_many_wrong(request, count_one=True)
                    for field, errors in exc.message_dict.items():
                        for error in errors:
                            form.add_error(field if field in form.fields else None, error)
                else:
                    form.add_error(None, exc.messages[0])
            else:
                messages.success(
                    request, _("Your phone PIN was changed. Use the new PIN from your next call.")
                )
                return redirect("portal:phone_pin")
        else:
            status = 400
    context = {"account": citizen, "status": robot_pin_status(citizen.person), "form": form}
    return render(request, "portal/phone_pin.html", context, status=status)
