"""Database helpers shared by the apps."""

from __future__ import annotations

from django.db.models import Func


class NoIndex(Func):
    """The expression's value unchanged; on SQLite written ``+expr``, so no index serves
    a condition on it.

    SQLite as Debian and Python ship it is built without STAT4: it cannot tell a narrow
    range from a wide one, so with two indexed ranges (a map's bounding box and a period)
    it picks one by rule, often the one that reads hundreds of thousands of rows. A query
    that knows which condition is the selective one wraps the others in ``NoIndex``
    (SQLite's documented way to disqualify a term from driving the plan). PostgreSQL
    has statistics of its own and gets the plain column.
    """

    template = "%(expressions)s"
    arity = 1

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="(+%(expressions)s)", **extra_context)


def filter_unindexed(queryset, **lookups):
    """``queryset.filter(**lookups)`` with each condition's column wrapped in ``NoIndex``:
    the conditions hold, but none of them can drive the plan (``category_id=3``,
    ``status__in=[...]``; a column of this model, not a relation path)."""
    from django.db.models import F

    aliases, filters = {}, {}
    for lookup, value in lookups.items():
        column, _, operator = lookup.partition("__")
        name = f"unindexed_{column}"
        aliases[name] = NoIndex(F(column))
        filters[f"{name}__{operator}" if operator else name] = value
    return queryset.alias(**aliases).filter(**filters)


class IntegerPart(Func):
    """The integer part of a number, truncated toward zero like Python's ``int()``.

    ``CAST(x AS INTEGER)`` truncates on SQLite but rounds to the nearest on PostgreSQL,
    so a grid cell computed in SQL would differ from one computed in Python."""

    template = "CAST(%(expressions)s AS INTEGER)"
    arity = 1

    def __init__(self, expression, **extra):
        from django.db.models import IntegerField

        super().__init__(expression, output_field=IntegerField(), **extra)

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "CAST(TRUNC(%(expressions)s) AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra_context)
