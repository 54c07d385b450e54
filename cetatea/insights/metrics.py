"""The metrics the refresh counts, the histogram of durations, percentiles from it.

Definitions (docs/insights.md): a case's measures are dated by the day they happen
(registration, first response, each closing and reopening, the final closing, the
feedback); durations count the time the clock ran, without the time "waiting for the
citizen" and, after a reopening, without the time the case stood closed.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

from django.conf import settings

# --- cases (dimensions dc, da, dch: the department joined with category, area, channel)
RECEIVED = "recv"  # registered (day of registration)
WITH_PHOTO = "photo"  # ... of which with a photo
WITH_LOCATION = "loc"  # ... of which with a place on the map
FORWARDED = "fwd"  # ... of which forwarded to another department at least once
OPENED = "open_in"  # entered an open state: registration and each reopening
CLOSED = "open_out"  # left it: each closing (backlog = opened - closed up to a day)
REOPENED = "reopen"  # each reopening
FIRST_RESPONSE = "first"  # histogram: time to the first answer the citizen sees
RESOLVED = "resolved"  # final closing (cases closed now, on the day they closed)
RESOLUTION_TIME = "res_time"  # histogram: time to the final closing
RESOLVED_ON_TIME = "res_target"  # ... closed by the due time
RESOLVED_REOPENED = "res_reopen"  # ... that had been reopened
FIRST_CONTACT = "fcr"  # ... resolved at the first contact
SATISFACTION_N = "sat_n"  # feedback with a mark (day of the feedback)
SATISFACTION_SUM = "sat_sum"  # sum of the marks (1-5)
# --- the heat map (dimension cell): received only
# --- registry entries (dimension rp: the registry point joined with the department)
REG_IN = "reg_in"
REG_OUT = "reg_out"
REG_INTERNAL = "reg_int"
# Petitions (OG 27/2002) and public-information requests (Law 544/2001): prefix + suffix.
PETITION = "pet"
INFO_544 = "i544"
LEGAL_RECEIVED = "_recv"
LEGAL_CLOSED = "_closed"  # closed (answered, forwarded, filed, joined, refused)
LEGAL_ON_TIME = "_ontime"  # ... within the first term (30 / 10 days)
LEGAL_IN_TERM = "_term"  # ... within the term including an extension
LEGAL_EXTENDED = "_ext"  # ... whose term was extended
LEGAL_FORWARDED = "_fwd"  # ... forwarded to the competent authority
LEGAL_FORWARDED_ON_TIME = "_fwd5"  # ... forwarded within the term (5 days)
# --- phone robot calls (dimension rob, key "all")
ROBOT_CALLS = "rb_calls"
ROBOT_IDENTIFIED = "rb_ident"
ROBOT_SELF_SERVED = "rb_self"  # identified and no operator needed
ROBOT_TRANSFERRED = "rb_xfer"
ROBOT_HANGUP = "rb_hang"  # hung up before being identified
# --- snapshot (now)
OPEN_NOW = "open"
OVERDUE_NOW = "overdue"
PAUSED_NOW = "paused"
LEGAL_OPEN_NOW = "_open"
LEGAL_LATE_NOW = "_late"

HISTOGRAMS = frozenset({FIRST_RESPONSE, RESOLUTION_TIME})
CELL_DIM = "cell"
REGISTRY_DIM = "rp"
ROBOT_DIM = "rob"
# Heat map cells: 2^-8 degrees (about 430 m north-south, 300 m east-west here).
CELL_LEVEL = 8
# Resolved at the first contact: closed within this time of registration, never
# reopened, with one contact from the citizen.
FIRST_CONTACT_SECONDS = 3600

# Durations are counted in buckets 2^(1/16) apart (4.4 % wide) from one minute up: a
# percentile read from them is within 2.2 % of the exact value.
_STEPS_PER_OCTAVE = 16
_BASE_SECONDS = 60.0


def bucket(seconds: float) -> int:
    if seconds < _BASE_SECONDS:
        return 0
    return 1 + int(_STEPS_PER_OCTAVE * math.log2(seconds / _BASE_SECONDS))


def bucket_value(index: int) -> float:
    """The representative duration of a bucket (the geometric middle of its edges)."""
    if index <= 0:
        return _BASE_SECONDS / 2
    return _BASE_SECONDS * 2 ** ((index - 0.5) / _STEPS_PER_OCTAVE)


def percentile(hist: dict, fraction: float) -> float | None:
    """The nearest-rank percentile of a histogram {bucket: count}, in seconds."""
    total = sum(hist.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for index in sorted(hist, key=int):
        seen += hist[index]
        if seen >= rank:
            return bucket_value(int(index))
    return bucket_value(int(max(hist, key=int)))


def tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_of(moment: dt.datetime, zone: ZoneInfo | None = None) -> int:
    """The local calendar day of a moment, as a proleptic ordinal."""
    return moment.astimezone(zone or tz()).toordinal()


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)
