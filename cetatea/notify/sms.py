"""The SMS gateway: one small interface, backends chosen by ``CETATEA_SMS_BACKEND``.

A backend is a class with ``send(*, to, body) -> str`` returning the provider's message
id, raising ``SmsError`` when the message was not accepted. Adding a provider is a new
class (here or in any module) and a dotted path in the setting.
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
import uuid

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway did not take the message. ``permanent``: trying again will not help
    (a refused number, bad credentials); otherwise the message is tried again later."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class SmsBackend:
    def send(self, *, to: str, body: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError


class LoggingBackend(SmsBackend):
    """Writes the message to the log and counts it as sent (development, demos)."""

    def send(self, *, to: str, body: str) -> str:
        message_id = f"log-{uuid.uuid4().hex[:16]}"
        logger.info("SMS to %s (%s): %s", to, message_id, body)
        return message_id


class TwilioBackend(SmsBackend):
    """Twilio's Programmable Messaging REST API (``POST .../Messages.json``).

    Settings: ``CETATEA_TWILIO_ACCOUNT_SID``, ``CETATEA_TWILIO_AUTH_TOKEN``,
    ``CETATEA_SMS_FROM`` (a number in E.164 or a Messaging Service sid ``MG...``),
    ``CETATEA_TWILIO_BASE_URL`` (tests point it at a server on loopback) and
    ``CETATEA_SMS_TIMEOUT`` in seconds. 4xx answers other than 429 are permanent
    failures; 5xx, 429, timeouts and network errors are tried again.
    """

    def __init__(self):
        self.sid = settings.CETATEA_TWILIO_ACCOUNT_SID
        self.token = settings.CETATEA_TWILIO_AUTH_TOKEN
        self.sender = settings.CETATEA_SMS_FROM
        self.base_url = settings.CETATEA_TWILIO_BASE_URL.rstrip("/")
        self.timeout = settings.CETATEA_SMS_TIMEOUT

    def send(self, *, to: str, body: str) -> str:
        if not (self.sid and self.token and self.sender):
            raise SmsError("Twilio is not configured (account sid, token, sender)", permanent=True)
        if urllib.parse.urlsplit(self.base_url).scheme not in ("https", "http"):
            raise SmsError("CETATEA_TWILIO_BASE_URL is not an http(s) URL", permanent=True)
        url = (
            f"{self.base_url}/2010-04-01/Accounts/{urllib.parse.quote(self.sid, safe='')}"
            "/Messages.json"
        )
        sender_field = "MessagingServiceSid" if self.sender.startswith("MG") else "From"
        data = urllib.parse.urlencode({"To": to, sender_field: self.sender, "Body": body})
        credentials = base64.b64encode(f"{self.sid}:{self.token}".encode()).decode("ascii")
        request = urllib.request.Request(  # noqa: S310 - http(s) checked above
            url,
            data=data.encode("utf-8"),
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = _json(response.read())
        except urllib.error.HTTPError as exc:
            detail = _json(exc.read()).get("message") or exc.reason
            permanent = 400 <= exc.code < 500 and exc.code != 429
            raise SmsError(f"HTTP {exc.code}: {detail}"[:500], permanent=permanent) from None
        except TimeoutError as exc:
            raise SmsError(f"timeout after {self.timeout} s") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise SmsError(f"network error: {getattr(exc, 'reason', exc)}"[:500]) from exc
        if payload.get("status") == "failed" or not payload.get("sid"):
            raise SmsError(f"not accepted: {payload.get('message') or payload}"[:500])
        return str(payload["sid"])[:100]


def _json(raw: bytes) -> dict:
    try:
        value = json.loads(raw.decode("utf-8", "replace") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def get_backend() -> SmsBackend:
    return import_string(settings.CETATEA_SMS_BACKEND)()
