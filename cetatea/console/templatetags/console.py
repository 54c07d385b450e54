"""Template helpers of the staff console."""

import time

from django import template
from django.forms import ModelChoiceField, SelectMultiple
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()


# The options of the queue's selects (departments, categories, areas, teams, staff) are
# the same for every request and change seldom: each web process keeps them for
# CHOICES_TTL seconds, per form field and language, and drops them all as soon as one of
# those rows is saved or deleted in this process (another process sees the change
# within CHOICES_TTL).
CHOICES_TTL = 60.0
_choice_cache: dict[tuple[str, str, str], tuple[float, list]] = {}


def clear_choice_cache(**_kwargs) -> None:
    _choice_cache.clear()


def _cached_choices(bound_field) -> list:
    field = bound_field.field
    if not isinstance(field, ModelChoiceField):
        return list(field.choices)
    form = type(bound_field.form)
    key = (f"{form.__module__}.{form.__qualname__}", bound_field.name, get_language() or "")
    now = time.monotonic()
    hit = _choice_cache.get(key)
    if hit is not None and now - hit[0] < CHOICES_TTL:
        return hit[1]
    # One plain SELECT: Django's ModelChoiceIterator reads with QuerySet.iterator(), on
    # PostgreSQL a server-side cursor (DECLARE, FETCH, CLOSE: three round trips).
    head = [("", field.empty_label)] if field.empty_label is not None else []
    rows = head + [(field.prepare_value(o), field.label_from_instance(o)) for o in field.queryset]
    _choice_cache[key] = (now, rows)
    return rows


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
            for key, label in _cached_choices(bound_field)
        ),
    )
    return format_html(
        '<select name="{}" id="{}"{}>{}</select>',
        bound_field.html_name,
        bound_field.auto_id,
        extra if multiple or bound_field.help_text else "",
        options,
    )


@register.filter
def label_in(value, labels):
    """``{{ case.status|label_in:status_labels }}``: a choice's label from a dict made once
    per page (``Model.get_FOO_display`` rebuilds the choices dict on every call, twice per
    row of the queue)."""
    return labels.get(value, value)
