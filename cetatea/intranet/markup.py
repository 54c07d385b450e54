"""Announcement text to safe HTML: Markdown (markdown-it-py) or plain text, then nh3.

Raw HTML in the source is never passed through (markdown-it's ``html`` option is off),
and the result is sanitised by nh3 with a short allow-list anyway, so a link can carry
no ``javascript:`` URL and no attribute can run script.
"""

from __future__ import annotations

import nh3
from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

from cetatea.intranet.choices import BodyFormat

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}


def _demote_headings(html: str) -> str:
    # The page's own <h1> is the title: a "# Heading" in the text becomes an <h2>.
    return html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")


def render_body(text: str, body_format: str) -> SafeString:
    """The announcement's text as sanitised HTML."""
    if body_format == BodyFormat.TEXT:
        html = linebreaks(escape(text))
    else:
        html = _demote_headings(_MD.render(text))
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 just above
