"""Entry points of the processes of a parallel rebuild (``refresh.rebuild(workers=N)``).

This module imports nothing of Django's models at import time: a spawned worker loads it
before Django is set up, then ``start`` sets Django up on the parent's database.
"""

from __future__ import annotations


def start(database: dict) -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cetatea.settings")
    from django.conf import settings

    settings.DATABASES["default"].update(database)
    django.setup()


def job(piece: tuple[int, int, int]) -> tuple[int, int, list, dict, dict]:
    from cetatea.insights.refresh import facts_of_range

    source, lo, hi = piece
    done, rows, totals = facts_of_range(source, lo, hi)
    return source, done, rows, totals.counts, totals.hists
