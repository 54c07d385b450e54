"""Gap-free yearly numbering (case references, registry numbers)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from cetatea.core.models import Counter


def next_number(name: str, year: int) -> int:
    """Take the next number of sequence ``name`` for ``year``.

    Must run inside the transaction that stores the numbered row, so that a failure
    returns the number (no gaps) and the row lock taken by the UPDATE makes concurrent
    writers wait for each other (no duplicates).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number() must run inside transaction.atomic()")
    for _attempt in range(3):
        updated = Counter.objects.filter(name=name, year=year).update(value=F("value") + 1)
        if updated:
            return Counter.objects.values_list("value", flat=True).get(name=name, year=year)
        try:
            with transaction.atomic():  # savepoint: a racing first insert is retried
                Counter.objects.create(name=name, year=year, value=1)
            return 1
        except IntegrityError:
            continue
    raise RuntimeError(f"could not take a number from sequence {name}/{year}")
