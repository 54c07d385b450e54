"""The CTI endpoint the PBX calls, and the operator's call screen and call log."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from cetatea.core.clientip import client_ip
from cetatea.core.crypto import token_matches
from cetatea.core.identifiers import format_phone
from cetatea.core.security import WEBHOOK_RATE, rate_limit
from cetatea.people.forms import PersonForm
from cetatea.telephony import selectors, services
from cetatea.telephony.forms import CallLogForm
from cetatea.telephony.templatetags.telephony import number

logger = logging.getLogger(__name__)


def _token_ok(given: str) -> bool:
    return token_matches(given, settings.CETATEA_CTI_TOKEN)


def _payload(request) -> dict[str, object]:
    """The event's fields from a form POST (Zammad's curl examples) or a JSON body."""
    if request.content_type == "application/json":
        data = json.loads(request.body or b"{}")
        if not isinstance(data, dict):
            raise ValueError("not an object")
        users = data.get("user") or data.get("user[]") or []
        if isinstance(users, str):
            users = [users]
        return {**data, "user": [str(u) for u in users if isinstance(u, str | int)]}
    post = request.POST
    return {**post.dict(), "user": post.getlist("user[]") + post.getlist("user")}


@csrf_exempt
@require_POST
@rate_limit(WEBHOOK_RATE)
def cti_endpoint(request, token: str):
    """``POST /api/v1/cti/<token>``: the newCall, answer and hangup events of a PBX.

    The same URL shape and fields as Zammad's generic CTI push API, so PBX scripts
    written for it work when pointed here. Answers are JSON: ``{}`` when the event was
    applied (or was a repeat), ``{"error": ..., "fields": ...}`` otherwise.
    """
    if not _token_ok(token):
        logger.warning("CTI event refused: bad token from %s", client_ip(request))
        return JsonResponse({"error": _("Invalid CTI token.")}, status=401)
    try:
        data = _payload(request)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": _("The body is not a JSON object.")}, status=400)

    def text(name: str) -> str:
        value = data.get(name)
        # JSON may carry a numeric call id or extension; nothing else is a field value.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value if isinstance(value, str) else ""

    try:
        services.cti_event(
            event=text("event"),
            call_id=text("callId"),
            from_number=text("from"),
            to_number=text("to"),
            direction=text("direction") or "in",
            users=data["user"],
            queue=text("queue"),
            cause=text("cause"),
            answering_number=text("answeringNumber"),
            robot_call_id=text("robotCallId"),
        )
    except services.UnknownCallError as exc:
        return JsonResponse({"error": exc.messages[0], "fields": exc.message_dict}, status=404)
    except ValidationError as exc:
        return JsonResponse({"error": exc.messages[0], "fields": exc.message_dict}, status=400)
    return JsonResponse({})


def _screen_context(request, screen: selectors.CallScreen) -> dict:
    context: dict = {"screen": screen, "card": None, "person_form": None}
    call = screen.call
    if call is None:
        return context
    context["who"] = call.person.display_name if call.person else number(call.caller_number)
    if call.person is not None:
        context["card"] = selectors.caller_card(call.person)
        services.caller_record_shown(
            actor=request.user,
            person=call.person,
            call=call,
            ip_address=client_ip(request),
        )
    elif request.user.has_perm("people.add_person"):
        phone = call.caller_number
        context["person_form"] = PersonForm(
            initial={"phone": format_phone(phone) if phone.startswith("+") else phone}
        )
    return context


@require_GET
@login_required
@permission_required("telephony.view_call", raise_exception=True)
def console(request):
    """The operator's call screen; ``_screen.html`` refreshes itself every 2 seconds."""
    screen = selectors.call_screen_for(request.user)
    return render(request, "telephony/console.html", _screen_context(request, screen))


@require_GET
@login_required
@permission_required("telephony.view_call", raise_exception=True)
def live(request):
    """The screen fragment, or 204 (htmx swaps nothing) when nothing changed since ``key``."""
    screen = selectors.call_screen_for(request.user)
    if request.GET.get("key") == screen.key:
        return HttpResponse(status=204)
    return render(request, "telephony/_screen.html", _screen_context(request, screen))


@require_GET
@login_required
@permission_required("telephony.view_call", raise_exception=True)
def call_log(request):
    form = CallLogForm(request.GET or None)
    mine = cursor = ""
    if form.is_valid():
        mine, cursor = form.cleaned_data["mine"], form.cleaned_data["cursor"]
    page = selectors.call_log(
        user=request.user if mine else None,
        cursor=cursor,
        page_size=settings.CETATEA_PAGE_SIZE,
    )
    return render(request, "telephony/log.html", {"form": form, "page": page, "mine": mine})
