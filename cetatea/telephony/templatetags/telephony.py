from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from cetatea.core.identifiers import format_phone

register = template.Library()


@register.filter
def number(value: str) -> str:
    """A call's number as people read it; what the PBX sent when it is not a phone number."""
    if not value:
        return _("unknown number")
    return format_phone(value) if value.startswith("+") else value


ROBOT_OPTIONS = {
    "taxes": _lazy("taxes owed"),
    "fines": _lazy("fines"),
    "petition": _lazy("petition status"),
    "operator": _lazy("operator"),
}


@register.filter
def robot_options(options: list[str]) -> str:
    """The menu options a phone robot caller used, in the operator's language."""
    return ", ".join(str(ROBOT_OPTIONS.get(o, o)) for o in options or [])
