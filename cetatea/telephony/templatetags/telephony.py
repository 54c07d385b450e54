from django import template
from django.utils.translation import gettext as _

from cetatea.core.identifiers import format_phone

register = template.Library()


@register.filter
def number(value: str) -> str:
    """A call's number as people read it; what the PBX sent when it is not a phone number."""
    if not value:
        return _("unknown number")
    return format_phone(value) if value.startswith("+") else value
