"""What each source row contributes to the counts (a ``Fact``), computed in batches.

A fact depends only on the rows it is computed from, never on the time it is computed,
so an incremental refresh and a full rebuild give the same counts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection
from django.db.models import Count as DbCount

from cetatea.cases.choices import CLOSED_STATUSES, PAUSED_STATUSES, Direction, EventKind
from cetatea.cases.models import Case, CaseEvent, Interaction, Photo
from cetatea.core import workdays
from cetatea.insights import metrics as m
from cetatea.portal.models import Feedback
from cetatea.registry.choices import Direction as RegistryDirection
from cetatea.registry.choices import DocRegime, EntryStatus
from cetatea.registry.choices import EventKind as EntryEventKind
from cetatea.registry.models import Entry, EntryEvent
from cetatea.telephony.models import RobotCall

_CLOSED = frozenset(str(s) for s in CLOSED_STATUSES)
_PAUSED = frozenset(str(s) for s in PAUSED_STATUSES)


def _cell(latitude: float, longitude: float) -> str:
    scale = 2**m.CELL_LEVEL
    return f"{int(latitude * scale)}:{int(longitude * scale)}"


# ----------------------------------------------------------------------------- cases


def _moment(value) -> dt.datetime | None:
    """A datetime column as the database returned it: SQLite gives UTC text."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def _raw(qs, moments: tuple[int, ...]) -> list[tuple]:
    """The rows of a ``values_list`` query without the ORM's per-value converters (the
    refresh reads millions of them); ``moments`` are the datetime columns."""
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if connection.vendor != "sqlite":
        return rows
    out = []
    for row in rows:
        row = list(row)
        for i in moments:
            row[i] = _moment(row[i])
        out.append(tuple(row))
    return out


def case_facts(case_ids: Iterable[int]) -> dict[int, dict | None]:
    """{case id: fact data, or None when the case no longer exists}, in 5 queries."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    zone = m.tz()
    cases = {
        row[0]: row
        for row in _raw(
            Case.objects.filter(pk__in=ids)
            .order_by()
            .values_list(
                "id",
                "department_id",
                "category_id",
                "area_id",
                "channel",
                "registered_at",
                "status",
                "closed_at",
                "due_at",
                "latitude",
                "longitude",
            ),
            moments=(5, 7, 8),
        )
    }
    events = defaultdict(list)
    for row in _raw(
        CaseEvent.objects.filter(case_id__in=ids)
        .order_by("case_id", "created_at", "id")
        .values_list("case_id", "kind", "from_status", "to_status", "is_public", "created_at"),
        moments=(5,),
    ):
        events[row[0]].append(row)
    photos = set(Photo.objects.filter(case_id__in=ids).values_list("case_id", flat=True))
    feedback = {
        case_id: (mark, at)
        for case_id, mark, at in Feedback.objects.filter(
            case_id__in=ids, satisfaction__isnull=False
        ).values_list("case_id", "satisfaction", "created_at")
    }
    contacts = dict(
        Interaction.objects.filter(case_id__in=ids, direction=Direction.INBOUND)
        .order_by()
        .values_list("case_id")
        .annotate(n=DbCount("id"))
        .values_list("case_id", "n")
    )
    out: dict[int, dict | None] = dict.fromkeys(ids)
    for case_id, row in cases.items():
        out[case_id] = _case_fact(
            row,
            events.get(case_id, []),
            has_photo=case_id in photos,
            feedback=feedback.get(case_id),
            contacts=contacts.get(case_id, 0),
            zone=zone,
        )
    return out


def _case_fact(row, events, *, has_photo, feedback, contacts, zone) -> dict:
    (_id, dept, category, area, channel, registered, status, closed_at, due_at, lat, lon) = row
    d = dept or 0
    keys = {"dc": f"{d}|{category}", "da": f"{d}|{area or 0}", "dch": f"{d}|{channel}"}
    if lat is not None and lon is not None:
        keys[m.CELL_DIM] = _cell(lat, lon)
    reg_day = registered.astimezone(zone).toordinal()
    measures: list[list] = [[reg_day, m.RECEIVED, 1], [reg_day, m.OPENED, 1]]
    if has_photo:
        measures.append([reg_day, m.WITH_PHOTO, 1])
    if lat is not None:
        measures.append([reg_day, m.WITH_LOCATION, 1])

    paused_since: dt.datetime | None = None
    paused = dt.timedelta(0)  # the clock stopped: waiting for the citizen
    closed_since: dt.datetime | None = None
    closed = dt.timedelta(0)  # stood closed before a reopening
    first_response: dt.datetime | None = None
    paused_at_first = dt.timedelta(0)
    reopened = forwarded = False
    last_close: dt.datetime | None = None
    for _case, kind, from_status, to_status, is_public, at in events:
        if kind == EventKind.CREATED:
            continue
        if kind == EventKind.FORWARDED:
            forwarded = True
        if (
            first_response is None
            and is_public
            and kind in (EventKind.STATUS, EventKind.PUBLIC_REPLY)
        ):
            first_response = at
            paused_at_first = paused + ((at - paused_since) if paused_since else dt.timedelta(0))
        if kind != EventKind.STATUS:
            continue
        if to_status in _PAUSED and paused_since is None:
            paused_since = at
        elif to_status not in _PAUSED and paused_since is not None:
            paused += at - paused_since
            paused_since = None
        if to_status in _CLOSED and from_status not in _CLOSED:
            measures.append([at.astimezone(zone).toordinal(), m.CLOSED, 1])
            closed_since = last_close = at
        elif from_status in _CLOSED and to_status not in _CLOSED:
            day = at.astimezone(zone).toordinal()
            measures += [[day, m.OPENED, 1], [day, m.REOPENED, 1]]
            reopened = True
            if closed_since is not None:
                closed += at - closed_since
                closed_since = None
    if forwarded:
        measures.append([reg_day, m.FORWARDED, 1])
    if first_response is not None:
        seconds = max((first_response - registered - paused_at_first).total_seconds(), 0)
        measures.append([first_response.astimezone(zone).toordinal(), m.FIRST_RESPONSE, seconds])
    if status in _CLOSED and closed_at is not None:
        end = last_close or closed_at
        day = end.astimezone(zone).toordinal()
        worked = max((end - registered - paused - closed).total_seconds(), 0)
        measures += [[day, m.RESOLVED, 1], [day, m.RESOLUTION_TIME, worked]]
        if end <= due_at:
            measures.append([day, m.RESOLVED_ON_TIME, 1])
        if reopened:
            measures.append([day, m.RESOLVED_REOPENED, 1])
        elif (end - registered).total_seconds() <= m.FIRST_CONTACT_SECONDS and contacts <= 1:
            measures.append([day, m.FIRST_CONTACT, 1])
    if feedback is not None:
        mark, at = feedback
        day = at.astimezone(zone).toordinal()
        measures += [[day, m.SATISFACTION_N, 1], [day, m.SATISFACTION_SUM, mark]]
    return {"k": keys, "m": measures}


# --------------------------------------------------------------------- registry entries

_LEGAL_PREFIX = {DocRegime.PETITION: m.PETITION, DocRegime.INFO_544: m.INFO_544}
_DIRECTION_METRIC = {
    RegistryDirection.INCOMING: m.REG_IN,
    RegistryDirection.OUTGOING: m.REG_OUT,
    RegistryDirection.INTERNAL: m.REG_INTERNAL,
}


def entry_facts(entry_ids: Iterable[int]) -> dict[int, dict | None]:
    ids = sorted(set(entry_ids))
    if not ids:
        return {}
    zone = m.tz()
    closures = workdays.closure_days()
    rows = (
        Entry.objects.filter(pk__in=ids)
        .order_by()
        .values_list(
            "id",
            "book__point_id",
            "department_id",
            "direction",
            "doc_type__regime",
            "doc_type__term_days",
            "registered_at",
            "status",
            "dispatched_at",
            "closed_at",
            "due_date",
            "extended_days",
        )
    )
    events = defaultdict(list)
    for entry_id, kind, data, at in (
        EntryEvent.objects.filter(
            entry_id__in=ids, kind__in=[EntryEventKind.FORWARDED, EntryEventKind.EXTENDED]
        )
        .order_by("entry_id", "created_at", "id")
        .values_list("entry_id", "kind", "data", "created_at")
    ):
        events[entry_id].append((kind, data or {}, at))
    out: dict[int, dict | None] = dict.fromkeys(ids)
    for row in rows:
        out[row[0]] = _entry_fact(row, events.get(row[0], []), zone, closures)
    return out


def _entry_fact(row, events, zone, closures) -> dict:
    (
        _id,
        point,
        dept,
        direction,
        regime,
        term_days,
        registered,
        status,
        dispatched,
        closed_at,
        due_date,
        extended_days,
    ) = row
    reg_local = registered.astimezone(zone).date()
    reg_day = reg_local.toordinal()
    measures: list[list] = [[reg_day, _DIRECTION_METRIC.get(direction, m.REG_IN), 1]]
    prefix = _LEGAL_PREFIX.get(regime)
    if prefix and direction == RegistryDirection.INCOMING:
        measures.append([reg_day, prefix + m.LEGAL_RECEIVED, 1])
        forwarded = [(data, at) for kind, data, at in events if kind == EntryEventKind.FORWARDED]
        extended = extended_days > 0 or any(k == EntryEventKind.EXTENDED for k, _d, _a in events)
        if status != EntryStatus.OPEN and status != EntryStatus.DONE:
            if status == EntryStatus.ANSWERED and dispatched is not None:
                end = dispatched
            elif status == EntryStatus.FORWARDED and forwarded:
                end = forwarded[0][1]
            else:
                end = closed_at or dispatched or registered
            end_local = end.astimezone(zone).date()
            day = end_local.toordinal()
            measures.append([day, prefix + m.LEGAL_CLOSED, 1])
            first_term = workdays.term_end(reg_local, term_days, closures) if term_days else None
            if first_term is None or end_local <= first_term:
                measures.append([day, prefix + m.LEGAL_ON_TIME, 1])
            if due_date is None or end_local <= due_date:
                measures.append([day, prefix + m.LEGAL_IN_TERM, 1])
            if extended:
                measures.append([day, prefix + m.LEGAL_EXTENDED, 1])
            if forwarded:
                measures.append([day, prefix + m.LEGAL_FORWARDED, 1])
                if forwarded[0][0].get("late") is False:
                    measures.append([day, prefix + m.LEGAL_FORWARDED_ON_TIME, 1])
    return {"k": {m.REGISTRY_DIM: f"{point}|{dept or 0}"}, "m": measures}


# ---------------------------------------------------------------------- robot calls


def robot_facts(call_ids: Iterable[int]) -> dict[int, dict | None]:
    ids = sorted(set(call_ids))
    if not ids:
        return {}
    zone = m.tz()
    out: dict[int, dict | None] = dict.fromkeys(ids)
    for pk, started, identified, transferred, outcome in (
        RobotCall.objects.filter(pk__in=ids)
        .order_by()
        .values_list("id", "started_at", "identified", "transferred", "outcome")
    ):
        day = started.astimezone(zone).toordinal()
        measures = [[day, m.ROBOT_CALLS, 1]]
        if identified:
            measures.append([day, m.ROBOT_IDENTIFIED, 1])
            if not transferred:
                measures.append([day, m.ROBOT_SELF_SERVED, 1])
        if transferred:
            measures.append([day, m.ROBOT_TRANSFERRED, 1])
        elif not identified and outcome == "caller_hangup":
            measures.append([day, m.ROBOT_HANGUP, 1])
        out[pk] = {"k": {m.ROBOT_DIM: "all"}, "m": measures}
    return out
