"""Showing a message: plain text with links and @mentions made clickable, nothing else."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# http(s) links only (no javascript:, data:); a trailing full stop, comma or bracket
# belongs to the sentence, not to the address.
_TOKEN = re.compile(r"(?P<url>https?://[^\s<>\"']+)|(?<![\w@])@(?P<name>[\w.+-]+)")
_TRAILING = ".,;:!?)]}'\""


@register.filter
def chat_body(message, viewer_username: str = "") -> SafeString:
    """The message's text as HTML: every character escaped, line breaks kept, links as
    ``<a rel="noopener noreferrer nofollow">`` and @mentions marked (the viewer's own with
    the ``mention-me`` class)."""
    text = message.body if hasattr(message, "body") else str(message)
    if "@" not in text and "http" not in text:  # most messages: nothing to link
        return mark_safe(escape(text).replace("\n", "<br>"))  # noqa: S308 (escaped)
    out: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        out.append(escape(text[pos : match.start()]))
        token = match.group(0)
        tail = ""
        while token and token[-1] in _TRAILING:
            tail = token[-1] + tail
            token = token[:-1]
        if match.group("url"):
            url = escape(token)
            out.append(f'<a href="{url}" rel="noopener noreferrer nofollow">{url}</a>')
        else:
            name = token[1:]
            css = "mention mention-me" if name and name == viewer_username else "mention"
            out.append(f'<strong class="{css}">{escape(token)}</strong>')
        out.append(escape(tail))
        pos = match.end()
    out.append(escape(text[pos:]))
    return mark_safe("".join(out).replace("\n", "<br>"))  # noqa: S308 (every part escaped)


@register.filter
def mentions_user(message, username: str) -> bool:
    """Whether ``message`` names ``@username``."""
    if not username or not hasattr(message, "body") or f"@{username}" not in message.body:
        return False
    return any(
        m.group("name") and m.group("name").rstrip(_TRAILING) == username
        for m in _TOKEN.finditer(message.body)
    )
