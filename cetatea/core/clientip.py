"""The client's IP address, the same way everywhere (rate limits, audit records, logs).

Behind nginx (``deploy/nginx/cetatea.conf``) every request comes from 127.0.0.1; nginx
passes the client's address in ``X-Real-IP``. That header is believed only when the
deployment says a proxy is in front (``CETATEA_TRUSTED_PROXY=true`` or
``CETATEA_BEHIND_TLS_PROXY=true``) and only when it holds a valid address; otherwise the
socket's address (``REMOTE_ADDR``) is the answer. django-ratelimit uses this function too
(``RATELIMIT_IP_META_KEY`` in the settings), so ``key="ip"`` limits each citizen, not the
proxy.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _valid(value: str) -> str | None:
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's address: X-Real-IP from a trusted proxy, else REMOTE_ADDR."""
    if getattr(settings, "CETATEA_TRUSTED_PROXY", False):
        forwarded = _valid(request.META.get("HTTP_X_REAL_IP", ""))
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR") or None


def ratelimit_ip(request) -> str:
    """For django-ratelimit (``RATELIMIT_IP_META_KEY``): never empty (a Unix socket without
    a trusted proxy gives no address: all such requests then share one limit)."""
    return client_ip(request) or "0.0.0.0"  # noqa: S104 - a rate-limit key, not a bind address
