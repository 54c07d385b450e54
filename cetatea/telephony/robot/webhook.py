"""The robot over a TwiML-style HTTP callback (Twilio, Telnyx TeXML, Kazoo Pivot).

The platform POSTs ``CallSid``, ``From``, ``To`` (and ``Digits`` after a Gather) to
``/api/v1/robot/<token>``; the answer is XML verbs. HTTP keeps no state: the dialog is
rebuilt per request from the call's `RobotCall` (flows.py stores its state there).
A Gather that gets no key falls through to a Redirect back here with ``timeout=1``.
"""

from __future__ import annotations

from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cetatea.core.crypto import token_matches
from cetatea.core.security import WEBHOOK_RATE, rate_limit
from cetatea.telephony.robot.engine import Collect, Dialog, DigitCollector, Hangup, Say, Transfer
from cetatea.telephony.robot.flows import COLLECTS

VOICES = {"ro": "ro-RO", "en": "en-GB"}
ENDED = {"completed", "canceled", "failed", "busy", "no-answer"}


def _token_ok(given: str) -> bool:
    return token_matches(given, settings.CETATEA_ROBOT_TOKEN)


def _xml(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Response>{body}</Response>',
        content_type="application/xml",
        status=status,
    )


def _collected(collect: Collect, digits: str | None) -> tuple[str, bool]:
    """The platform's Digits, read with the engine's rules (``*`` cancels or means back)."""
    if digits is None:
        return "", True
    collector = DigitCollector()
    for key in digits + (collect.terminator or ""):
        collector.feed(key, 0.0)
    collector.start(collect, 0.0)
    result = collector.poll(0.0) or collector.poll(float("inf"))
    return result.value, result.timed_out


def render(dialog: Dialog, actions, action_url: str) -> str:
    """TwiML for ``actions``: the Says before a Collect go inside its Gather (barge-in)."""
    out: list[str] = []
    pending: list[str] = []
    voice = quoteattr(VOICES.get(dialog.language, "ro-RO"))
    for action in actions:
        if isinstance(action, Say):
            says = "".join(
                f"<Say language={voice}>{escape(dialog.prompt_text(p))}</Say>" for p in action.parts
            )
            (pending if action.bargein else out).append(says)
        elif isinstance(action, Collect):
            url = f"{action_url}?{urlencode({'name': action.name})}"
            attrs = {
                "input": "dtmf",
                "action": url,
                "method": "POST",
                "numDigits": str(action.max_digits),
                "timeout": str(int(action.first_timeout)),
            }
            if action.terminator:
                attrs["finishOnKey"] = action.terminator
            rendered = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
            out.append(f"<Gather {rendered}>{''.join(pending)}</Gather>")
            pending = []
            out.append(f'<Redirect method="POST">{escape(url)}&amp;timeout=1</Redirect>')
            break  # the next request carries the digits
        elif isinstance(action, Transfer):
            out.extend(pending)
            out.append(f"<Enqueue>{escape(action.queue)}</Enqueue>")
            break
        elif isinstance(action, Hangup):
            out.extend(pending)
            out.append("<Hangup/>")
            break
    return "".join(out)


@csrf_exempt
@require_POST
@rate_limit(WEBHOOK_RATE)
def robot_webhook(request, token: str):
    """``POST /api/v1/robot/<token>``: one step of a robot call (see the module doc)."""
    if not _token_ok(token):
        return _xml("", status=401)
    post = request.POST
    call_sid = post.get("CallSid", "").strip()[:250]
    if not call_sid:
        return _xml("", status=400)
    dialog = Dialog(
        caller=post.get("From", ""),
        called=post.get("To", ""),
        call_id=call_sid,
        channel="webhook",
    )
    if post.get("CallStatus", "") in ENDED:
        dialog.hangup()
        return _xml("")
    if dialog.flow.call is None:
        actions = dialog.start()
    else:
        name = request.GET.get("name", "")
        collect = COLLECTS.get(name) or Collect(name, 1, 1, terminator="")
        if request.GET.get("timeout") == "1" and "Digits" not in post:
            value, timed_out = "", True
        else:
            value, timed_out = _collected(collect, post.get("Digits"))
        actions = dialog.digits(name, value, timed_out=timed_out)
    return _xml(render(dialog, actions, request.path))
