"""Due times of cases.

* Operational tickets: the category's target time from registration.
* Petitions (OG 27/2002): 30 calendar days from the registration date, extendable once
  by up to 15 days (counted from the unrolled date), the last day moving to the next
  working day; the term ends at 24:00 of that day.
* Public-information requests (Law 544/2001): 10 days, same roll-forward.
* Waiting for the citizen pauses the clock: the time spent there is added back.
"""

from __future__ import annotations

import datetime as dt

from cetatea.catalog.choices import Regime
from cetatea.core import workdays

LEGAL_DAYS = {Regime.PETITION: workdays.PETITION_DAYS, Regime.INFO_544: workdays.INFO_544_DAYS}


def legal_base_date(regime: str, registered_at: dt.datetime) -> dt.date | None:
    """The unrolled last day of the legal term (None for operational tickets)."""
    days = LEGAL_DAYS.get(regime)
    if days is None:
        return None
    return workdays.local_date(registered_at) + dt.timedelta(days=days)


def legal_due_at(base: dt.date, extra_days: int = 0) -> dt.datetime:
    """End of the legal term: base (+ extension or pause), rolled to a working day."""
    return workdays.end_of_day(workdays.roll_forward(base + dt.timedelta(days=extra_days)))


def initial_due_at(*, regime: str, registered_at: dt.datetime, target_hours: int) -> tuple:
    """(due_at, legal_base_date) of a new case."""
    base = legal_base_date(regime, registered_at)
    if base is None:
        return registered_at + dt.timedelta(hours=target_hours), None
    return legal_due_at(base), base
