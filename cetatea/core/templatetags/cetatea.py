"""Template filters shared by every app: ``{% load cetatea %}``."""

from django import template

from cetatea.core.identifiers import format_phone, mask_email

register = template.Library()


@register.filter
def contact(point) -> str:
    """A contact point as people read it: phones in national format, e-mails as stored."""
    if getattr(point, "kind", "") == "phone":
        return format_phone(point.value)
    return getattr(point, "value", str(point))


@register.filter
def masked_email(value: str) -> str:
    """An e-mail address without its mailbox (``i***@example.ro``), see ``mask_email``."""
    return mask_email(value)
