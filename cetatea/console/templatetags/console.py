"""Template helpers of the staff console."""

from django import template
from django.forms import ModelChoiceField, SelectMultiple
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


def _choices(field) -> list:
    """The field's choices read with one plain SELECT.

    Django's ModelChoiceIterator reads with ``QuerySet.iterator()``, which on PostgreSQL is
    a server-side cursor: DECLARE, FETCH and CLOSE, three round trips for each select of
    the page instead of one."""
    if not isinstance(field, ModelChoiceField):
        return list(field.choices)
    head = [("", field.empty_label)] if field.empty_label is not None else []
    return head + [(field.prepare_value(o), field.label_from_instance(o)) for o in field.queryset]


@register.simple_tag
def select(bound_field):
    """A <select> for a choice field, written directly.

    Django renders each <option> through its own template; the queue has a few hundred
    options on every page, so this keeps the page's time to its data.
    """
    field = bound_field.field
    value = bound_field.value()
    values = value if isinstance(value, list | tuple) else [value]
    chosen = {str(v) for v in values if v not in (None, "")}
    multiple = isinstance(field.widget, SelectMultiple)
    extra = mark_safe(" multiple")
    if multiple and field.widget.attrs.get("size"):
        extra = format_html(' multiple size="{}"', field.widget.attrs["size"])
    if bound_field.help_text:
        extra += format_html(' aria-describedby="{}_help"', bound_field.auto_id)
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (key, mark_safe(" selected") if str(key) in chosen else "", label)
            for key, label in _choices(field)
        ),
    )
    return format_html(
        '<select name="{}" id="{}"{}>{}</select>',
        bound_field.html_name,
        bound_field.auto_id,
        extra if multiple or bound_field.help_text else "",
        options,
    )
