"""Reads of the management overview: indicators over a period, breakdowns, trends, the
legal-compliance figures, the robot, the map; drill-down to the cases behind a figure.

Every figure is read from ``Count`` (whole months from the month rows, the days at the
edges of a period from the day rows) and ``Snapshot``: a page costs a few index ranges
whatever the number of cases. Only the drill-down reads cases, one page at a time.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cetatea.cases.choices import CLOSED_STATUSES, OPEN_STATUSES, Channel, EventKind
from cetatea.cases.models import Case
from cetatea.catalog.models import Area, Category, Department
from cetatea.insights import metrics as m
from cetatea.insights.models import Count, Grain, RefreshState, Snapshot
from cetatea.registry.models import RegistryPoint

MAX_PERIOD_DAYS = 3660  # ten years
CITY_PERMISSION = "insights.view_city_dashboard"
DEPARTMENT_PERMISSION = "insights.view_department_dashboard"
EXPORT_PERMISSION = "insights.export_insights"
BREAKDOWNS = ("department", "category", "area", "channel")
# The dimension each breakdown reads (for the city, for one department), and which part
# of its key names the row.
_BREAKDOWN_DIM = {
    "department": (("dc", 0), ("dc", 0)),
    "category": (("dc", 1), ("dc", 1)),
    "area": (("a", 0), ("da", 1)),
    "channel": (("ch", 0), ("dch", 1)),
}
# Reads of the counts are kept per process until the next refresh (RefreshState.token).
_CACHE: dict[tuple, object] = {}
_CACHE_SIZE = 512


# ----------------------------------------------------------------------------- access


@dataclass(frozen=True)
class Viewer:
    """What a staff member may see: the whole city, or their own department."""

    city: bool
    department: Department | None

    def may_see(self, department: Department | None) -> bool:
        if self.city:
            return True
        return (
            department is not None
            and self.department is not None
            and department.pk == self.department.pk
        )


def access_insights(user: AbstractBaseUser | AnonymousUser) -> Viewer:
    """The viewer's scope; PermissionDenied for anyone who may see neither."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied
    if user.has_perm(CITY_PERMISSION):
        return Viewer(city=True, department=None)
    if user.has_perm(DEPARTMENT_PERMISSION):
        from cetatea.console.selectors import user_department

        department = user_department(user)
        if department is not None:
            return Viewer(city=False, department=department)
    raise PermissionDenied


def department_by_code(code: str) -> Department:
    """The department of a filter or a URL; ValidationError naming it when unknown."""
    department = Department.objects.filter(code=code).first() if code else None
    if department is None:
        raise ValidationError(
            _("There is no department “%(code)s”.") % {"code": (code or "")[:40]}, code="unknown"
        )
    return department


# ----------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end)

    def year_before(self) -> Period:
        def back(day: dt.date) -> dt.date:
            try:
                return day.replace(year=day.year - 1)
            except ValueError:  # 29 February
                return day.replace(year=day.year - 1, day=28)

        return Period(back(self.start), back(self.end))

    def __str__(self) -> str:
        return f"{self.start:%d.%m.%Y} – {self.end:%d.%m.%Y}"


def today() -> dt.date:
    return timezone.now().astimezone(m.tz()).date()


def default_period() -> Period:
    """The last 30 days, today included."""
    end = today()
    return Period(end - dt.timedelta(days=29), end)


def parse_period(start: str | None, end: str | None) -> Period:
    """A period from ISO dates (either may be empty: the default's); ValidationError with
    the reason otherwise."""
    default = default_period()
    errors: dict[str, list[str]] = {}
    values = {}
    for name, raw, fallback in (("start", start, default.start), ("end", end, default.end)):
        raw = (raw or "").strip()
        if not raw:
            values[name] = fallback
            continue
        try:
            values[name] = dt.date.fromisoformat(raw)
        except ValueError:
            errors[name] = [_("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": raw[:20]}]
    if errors:
        raise ValidationError(errors)
    if values["end"] < values["start"]:
        raise ValidationError({"end": [_("The end of the period is before its start.")]})
    if (values["end"] - values["start"]).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationError({"end": [_("A period can be at most ten years long.")]})
    return Period(values["start"], values["end"])


def _segments(period: Period) -> list[tuple[str, dt.date, dt.date]]:
    """Whole months as month rows; the rest as whole weeks (Monday to Sunday) and days."""
    out: list[tuple[str, dt.date, dt.date]] = []
    day = period.start
    while day <= period.end:
        month_end = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(
            days=1
        )
        if day.day == 1 and month_end <= period.end:
            if out and out[-1][0] == Grain.MONTH:  # one run of whole months
                out[-1] = (Grain.MONTH, out[-1][1], day)
            else:
                out.append((Grain.MONTH, day, day))
            day = month_end + dt.timedelta(days=1)
        else:
            stop = min(month_end, period.end)
            out += _weeks_and_days(day, stop)
            day = stop + dt.timedelta(days=1)
    return out


def _weeks_and_days(start: dt.date, end: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """[start, end] as day rows up to the first Monday, week rows for the whole weeks
    inside, and day rows after the last of them."""
    monday = start + dt.timedelta(days=-start.weekday() % 7)
    weeks = (end - monday).days + 1
    if weeks < 7:
        return [(Grain.DAY, start, end)]
    last_monday = monday + dt.timedelta(days=7 * (weeks // 7 - 1))
    out = []
    if monday > start:
        out.append((Grain.DAY, start, monday - dt.timedelta(days=1)))
    out.append((Grain.WEEK, monday, last_monday))
    after = last_monday + dt.timedelta(days=7)
    if after <= end:
        out.append((Grain.DAY, after, end))
    return out


# ------------------------------------------------------------------------------ reading


class Acc:
    """A metric's sum over rows: ``n`` and, for durations, the merged histogram."""

    __slots__ = ("hist", "n")

    def __init__(self):
        self.n = 0
        self.hist: dict[str, int] = {}

    def add(self, n: int, hist: dict | None) -> None:
        self.n += n
        if hist:
            for b, c in hist.items():
                self.hist[b] = self.hist.get(b, 0) + c


def _key_range(qs: QuerySet, department_id: int | None) -> QuerySet:
    if department_id is None:
        return qs
    return qs.filter(key__gte=f"{department_id}|", key__lt=f"{department_id}}}")


_TOKEN_SECONDS = 2.0  # how long a process trusts the refresh token it read
_token_read: list = [None, 0.0]  # (token, when read)


def _token() -> str:
    token, when = _token_read
    now = time.monotonic()
    if token is None or now - when > _TOKEN_SECONDS:
        token = RefreshState.objects.filter(pk="main").values_list("token", flat=True).first() or ""
        _token_read[:] = [token, now]
    return token


def forget() -> None:
    """Drop what this process keeps (a refresh in this process calls it)."""
    _token_read[:] = [None, 0.0]
    _CACHE.clear()


def _cached(name: str, compute, *args):
    """``compute(*args)``, kept until the counts change. The results are shared: the
    callers never change them."""
    key = (name, _token(), *args)
    try:
        return _CACHE[key]
    except KeyError:
        pass
    value = compute(*args)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = value
    return value


def _plain(rows) -> dict:
    return {key: dict(values) for key, values in rows.items()}


def read(
    dim: str, period: Period, *, department_id: int | None = None, metrics=None
) -> dict[str, dict[str, Acc]]:
    """{key: {metric: Acc}} of one dimension summed over the period."""
    metrics = tuple(sorted(metrics)) if metrics is not None else None
    return _cached("read", _read, dim, period, department_id, metrics)


def _read(dim, period, department_id, metrics) -> dict[str, dict[str, Acc]]:
    out: dict[str, dict[str, Acc]] = defaultdict(lambda: defaultdict(Acc))
    # One query per run of months or days: each is a range of the unique index
    # (dim, grain, period, ...); an OR of them would walk every row of the dimension.
    for grain, lo, hi in _segments(period):
        qs = Count.objects.filter(dim=dim, grain=grain, period__gte=lo, period__lte=hi)
        _sum_into(out, _key_range(qs, department_id), metrics)
    return _plain(out)


def _sum_into(out, qs: QuerySet, metrics) -> None:
    """Plain counts added up by the database (a row per key and metric); the duration
    histograms merged here."""
    qs = qs.order_by()
    if metrics is not None:
        qs = qs.filter(metric__in=list(metrics))
    histograms = sorted(m.HISTOGRAMS)
    for key, metric, n in (
        qs.exclude(metric__in=histograms)
        .values_list("key", "metric")
        .annotate(total=Sum("n"))
        .values_list("key", "metric", "total")
    ):
        out[key][metric].add(n, None)
    if metrics is None or m.HISTOGRAMS & set(metrics):
        for key, metric, n, hist in qs.filter(metric__in=histograms).values_list(
            "key", "metric", "n", "hist"
        ):
            out[key][metric].add(n, hist)


def _history(
    dim: str, until: dt.date, *, department_id: int | None, metrics
) -> dict[str, dict[str, Acc]]:
    """Sums of every row up to ``until`` included (the backlog's opened and closed)."""
    return _cached("history", _history_read, dim, until, department_id, tuple(metrics))


def _history_read(dim, until, department_id, metrics) -> dict[str, dict[str, Acc]]:
    out: dict[str, dict[str, Acc]] = defaultdict(lambda: defaultdict(Acc))
    first = until.replace(day=1)
    for qs in (
        Count.objects.filter(dim=dim, grain=Grain.MONTH, period__lt=first),
        Count.objects.filter(dim=dim, grain=Grain.DAY, period__gte=first, period__lte=until),
    ):
        _sum_into(out, _key_range(qs, department_id), metrics)
    return _plain(out)


def snapshot(dim: str, *, department_id: int | None = None) -> dict[str, dict[str, int]]:
    return _cached("snapshot", _snapshot_read, dim, department_id)


def _snapshot_read(dim, department_id) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    qs = _key_range(Snapshot.objects.filter(dim=dim), department_id)
    for key, metric, n in qs.values_list("key", "metric", "n"):
        out[key][metric] += n
    return _plain(out)


def refreshed_at() -> dt.datetime | None:
    return RefreshState.objects.filter(pk="main").values_list("refreshed_at", flat=True).first()


# ------------------------------------------------------------------------- indicators


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class Indicators:
    """The indicators of one scope over one period (None: nothing to compute it from)."""

    received: int = 0
    resolved: int = 0
    reopenings: int = 0
    opened: int = 0
    closed: int = 0
    with_photo_pct: float | None = None
    with_location_pct: float | None = None
    forwarded_pct: float | None = None
    on_time_pct: float | None = None
    reopen_pct: float | None = None
    first_contact_pct: float | None = None
    satisfaction: float | None = None
    satisfaction_n: int = 0
    first_response_median: float | None = None  # seconds
    first_response_p90: float | None = None
    resolution_median: float | None = None
    resolution_p90: float | None = None
    backlog: int | None = None  # open at the end of the period
    open_now: int | None = None
    overdue_now: int | None = None

    @classmethod
    def from_metrics(cls, values: dict[str, Acc]) -> Indicators:
        def n(metric: str) -> int:
            acc = values.get(metric)
            return acc.n if acc else 0

        def hist(metric: str) -> dict:
            acc = values.get(metric)
            return acc.hist if acc else {}

        received, resolved = n(m.RECEIVED), n(m.RESOLVED)
        sat_n = n(m.SATISFACTION_N)
        return cls(
            received=received,
            resolved=resolved,
            reopenings=n(m.REOPENED),
            opened=n(m.OPENED),
            closed=n(m.CLOSED),
            with_photo_pct=_pct(n(m.WITH_PHOTO), received),
            with_location_pct=_pct(n(m.WITH_LOCATION), received),
            forwarded_pct=_pct(n(m.FORWARDED), received),
            on_time_pct=_pct(n(m.RESOLVED_ON_TIME), resolved),
            reopen_pct=_pct(n(m.RESOLVED_REOPENED), resolved),
            first_contact_pct=_pct(n(m.FIRST_CONTACT), resolved),
            satisfaction=round(n(m.SATISFACTION_SUM) / sat_n, 2) if sat_n else None,
            satisfaction_n=sat_n,
            first_response_median=m.percentile(hist(m.FIRST_RESPONSE), 0.5),
            first_response_p90=m.percentile(hist(m.FIRST_RESPONSE), 0.9),
            resolution_median=m.percentile(hist(m.RESOLUTION_TIME), 0.5),
            resolution_p90=m.percentile(hist(m.RESOLUTION_TIME), 0.9),
        )


def _merge(parts) -> dict[str, Acc]:
    out: dict[str, Acc] = defaultdict(Acc)
    for values in parts:
        for metric, acc in values.items():
            out[metric].add(acc.n, acc.hist)
    return out


def _group(rows: dict[str, dict], part: int | None) -> dict[str, list]:
    grouped: dict[str, list] = defaultdict(list)
    for key, values in rows.items():
        grouped[key.split("|")[part] if part is not None else ""].append(values)
    return grouped


_BACKLOG_METRICS = (m.OPENED, m.CLOSED)


def indicators(period: Period, *, department: Department | None = None) -> Indicators:
    """The whole city's (or one department's) indicators over ``period``."""
    rows = breakdown(period, "department", department=department)
    total = Indicators.from_metrics(_merge(r.values for r in rows))
    if rows:
        total.backlog = sum(r.indicators.backlog or 0 for r in rows)
        total.open_now = sum(r.indicators.open_now or 0 for r in rows)
        total.overdue_now = sum(r.indicators.overdue_now or 0 for r in rows)
    else:
        total.backlog = total.open_now = total.overdue_now = 0
    return total


@dataclass
class BreakdownRow:
    key: str  # the id (department, category, area) or code (channel); "0": none
    label: str
    indicators: Indicators
    values: dict = field(default_factory=dict, repr=False)


def breakdown(
    period: Period, by: str, *, department: Department | None = None
) -> list[BreakdownRow]:
    """One row per department, category, area or channel with its indicators."""
    if by not in _BREAKDOWN_DIM:
        raise ValidationError(_("Unknown breakdown “%(by)s”.") % {"by": by[:20]})
    dim, part = _BREAKDOWN_DIM[by][0 if department is None else 1]
    dept_id = department.pk if department else None
    flows = _group(read(dim, period, department_id=dept_id), part)
    history = _group(
        _history(dim, period.end, department_id=dept_id, metrics=_BACKLOG_METRICS), part
    )
    now = _group(snapshot(dim, department_id=dept_id), part)
    labels = _labels(by, set(flows) | set(now) | set(history))
    out = []
    for key in labels:
        values = _merge(flows.get(key, []))
        ind = Indicators.from_metrics(values)
        past = _merge(history.get(key, []))
        ind.backlog = (past[m.OPENED].n if m.OPENED in past else 0) - (
            past[m.CLOSED].n if m.CLOSED in past else 0
        )
        current = now.get(key, [])
        ind.open_now = sum(v.get(m.OPEN_NOW, 0) for v in current)
        ind.overdue_now = sum(v.get(m.OVERDUE_NOW, 0) for v in current)
        if not (ind.received or ind.resolved or ind.backlog or ind.open_now or ind.closed):
            continue
        out.append(BreakdownRow(key, labels[key], ind, values))
    out.sort(key=lambda r: (-r.indicators.received, r.label.casefold()))
    return out


def _labels(by: str, keys: set[str]) -> dict[str, str]:
    ids = [int(k) for k in keys if k.isdigit() and k != "0"]
    none = {"department": _("No department"), "area": _("Outside the areas"), "category": "?"}
    if by == "channel":
        return {k: str(Channel(k).label) if k in Channel.values else k for k in keys}
    model = {"department": Department, "category": Category, "area": Area}[by]
    names = {str(o.pk): o.name for o in model.objects.filter(pk__in=ids)}
    return {k: names.get(k, none[by]) for k in keys}


# ------------------------------------------------------------------------------ trends


@dataclass
class TrendPoint:
    start: dt.date
    end: dt.date
    received: int
    resolved: int
    backlog: int


def trend(period: Period, *, department: Department | None = None) -> list[TrendPoint]:
    """Received, resolved and backlog per day (periods up to 62 days) or per month."""
    dept_id = department.pk if department else None
    metrics = (m.RECEIVED, m.RESOLVED, m.OPENED, m.CLOSED)
    by_day = period.days <= 62
    grain = Grain.DAY if by_day else Grain.MONTH
    lo = period.start if by_day else period.start.replace(day=1)
    qs = _key_range(
        Count.objects.filter(
            dim="dc", grain=grain, period__gte=lo, period__lte=period.end, metric__in=metrics
        ),
        dept_id,
    )
    sums: dict[tuple[dt.date, str], int] = defaultdict(int)
    for when, metric, n in qs.values_list("period", "metric", "n"):
        sums[(when, metric)] += n
    before = _history(
        "dc", lo - dt.timedelta(days=1), department_id=dept_id, metrics=_BACKLOG_METRICS
    )
    backlog = sum(
        (v[m.OPENED].n if m.OPENED in v else 0) - (v[m.CLOSED].n if m.CLOSED in v else 0)
        for v in before.values()
    )
    points = []
    when = lo
    while when <= period.end:
        if by_day:
            end = when
            following = when + dt.timedelta(days=1)
        else:
            following = (when.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            end = min(following - dt.timedelta(days=1), period.end)
        backlog += sums[(when, m.OPENED)] - sums[(when, m.CLOSED)]
        points.append(
            TrendPoint(
                max(when, period.start),
                end,
                sums[(when, m.RECEIVED)],
                sums[(when, m.RESOLVED)],
                backlog,
            )
        )
        when = following
    return points


# ----------------------------------------------------------------------- legal terms


@dataclass
class LegalFigures:
    """Petitions (OG 27/2002) or public-information requests (Law 544/2001)."""

    received: int = 0
    closed: int = 0
    on_time: int = 0  # within the first term (30 or 10 days)
    in_term: int = 0  # within the term including an extension
    extended: int = 0
    forwarded: int = 0
    forwarded_on_time: int = 0  # within 5 days
    open_now: int = 0
    late_now: int = 0

    @property
    def on_time_pct(self):
        return _pct(self.on_time, self.closed)

    @property
    def in_term_pct(self):
        return _pct(self.in_term, self.closed)

    @property
    def extended_pct(self):
        return _pct(self.extended, self.closed)

    @property
    def forwarded_on_time_pct(self):
        return _pct(self.forwarded_on_time, self.forwarded)


def legal(period: Period, *, department: Department | None = None) -> dict[str, LegalFigures]:
    """{"petitions": ..., "info_544": ...} over ``period`` (and open now)."""
    rows = read(m.REGISTRY_DIM, period)
    now = snapshot(m.REGISTRY_DIM)
    out = {}
    for name, prefix in (("petitions", m.PETITION), ("info_544", m.INFO_544)):
        figures = LegalFigures()
        for key, values in rows.items():
            if department is not None and key.split("|")[1] != str(department.pk):
                continue
            for attr, suffix in (
                ("received", m.LEGAL_RECEIVED),
                ("closed", m.LEGAL_CLOSED),
                ("on_time", m.LEGAL_ON_TIME),
                ("in_term", m.LEGAL_IN_TERM),
                ("extended", m.LEGAL_EXTENDED),
                ("forwarded", m.LEGAL_FORWARDED),
                ("forwarded_on_time", m.LEGAL_FORWARDED_ON_TIME),
            ):
                acc = values.get(prefix + suffix)
                if acc:
                    setattr(figures, attr, getattr(figures, attr) + acc.n)
        for key, values in now.items():
            if department is not None and key.split("|")[1] != str(department.pk):
                continue
            figures.open_now += values.get(prefix + m.LEGAL_OPEN_NOW, 0)
            figures.late_now += values.get(prefix + m.LEGAL_LATE_NOW, 0)
        out[name] = figures
    return out


@dataclass
class PointVolume:
    key: str
    label: str
    incoming: int
    outgoing: int
    internal: int


def registry_points(period: Period) -> list[PointVolume]:
    """Documents registered at each registry point over ``period``."""
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for key, values in read(m.REGISTRY_DIM, period).items():
        point = key.split("|")[0]
        for metric, acc in values.items():
            sums[point][metric] += acc.n
    names = {str(p.pk): p.name for p in RegistryPoint.objects.all()}
    rows = [
        PointVolume(k, names.get(k, "?"), v[m.REG_IN], v[m.REG_OUT], v[m.REG_INTERNAL])
        for k, v in sums.items()
    ]
    return sorted(rows, key=lambda r: (-r.incoming, r.label.casefold()))


# ------------------------------------------------------------------------- the robot


@dataclass
class RobotFigures:
    calls: int = 0
    identified: int = 0
    self_served: int = 0
    transferred: int = 0
    hangups: int = 0

    @property
    def identified_pct(self):
        return _pct(self.identified, self.calls)

    @property
    def self_served_pct(self):
        return _pct(self.self_served, self.calls)

    @property
    def transferred_pct(self):
        return _pct(self.transferred, self.calls)


def robot(period: Period) -> RobotFigures:
    values = read(m.ROBOT_DIM, period).get("all", {})

    def n(metric):
        return values[metric].n if metric in values else 0

    return RobotFigures(
        n(m.ROBOT_CALLS),
        n(m.ROBOT_IDENTIFIED),
        n(m.ROBOT_SELF_SERVED),
        n(m.ROBOT_TRANSFERRED),
        n(m.ROBOT_HANGUP),
    )


# --------------------------------------------------------------------------- the map


@dataclass
class AreaFigures:
    area: Area | None
    key: str
    label: str
    received: int
    open_now: int
    overdue_now: int


def area_map(period: Period, *, department: Department | None = None) -> list[AreaFigures]:
    """Per neighbourhood: received over the period, open and overdue now (the choropleth)."""
    rows = breakdown(period, "area", department=department)
    areas = {
        str(a.pk): a
        for a in Area.objects.filter(pk__in=[int(r.key) for r in rows if r.key.isdigit()])
    }
    return [
        AreaFigures(
            areas.get(r.key),
            r.key,
            r.label,
            r.indicators.received,
            r.indicators.open_now or 0,
            r.indicators.overdue_now or 0,
        )
        for r in rows
    ]


def heat(period: Period) -> list[tuple[float, float, int]]:
    """(latitude, longitude, cases received) of each map cell with cases (the heat map)."""
    size = 1 / 2**m.CELL_LEVEL
    out = []
    for key, values in read(m.CELL_DIM, period, metrics=(m.RECEIVED,)).items():
        y, x = (int(v) for v in key.split(":"))
        n = values[m.RECEIVED].n if m.RECEIVED in values else 0
        if n:
            out.append(((y + 0.5) * size, (x + 0.5) * size, n))
    return out


# ------------------------------------------------------------------------- drill-down

DRILL_METRICS = (
    "received",
    "resolved",
    "resolved_late",
    "reopened",
    "open",
    "overdue",
    "forwarded",
)


@dataclass
class DrillFilter:
    metric: str = "received"
    period: Period | None = None
    department: Department | None = None
    category_id: int | None = None
    area_id: int | None = None
    channel: str = ""


def drill_cases(f: DrillFilter) -> QuerySet[Case]:
    """The cases behind a figure, newest first (the caller paginates)."""
    if f.metric not in DRILL_METRICS:
        raise ValidationError(_("Unknown figure “%(metric)s”.") % {"metric": f.metric[:20]})
    qs = Case.objects.all()
    if f.department is not None:
        qs = qs.filter(department=f.department)
    if f.category_id:
        qs = qs.filter(category_id=f.category_id)
    if f.area_id:
        qs = qs.filter(area_id=f.area_id)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    tz = m.tz()
    since = until = None
    if f.period is not None:
        since = dt.datetime.combine(f.period.start, dt.time(), tzinfo=tz)
        until = dt.datetime.combine(f.period.end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    if f.metric in ("received", "forwarded") and since:
        qs = qs.filter(registered_at__gte=since, registered_at__lt=until)
        if f.metric == "forwarded":
            qs = qs.filter(events__kind=EventKind.FORWARDED).distinct()
        return qs.order_by("-registered_at", "-id")
    if f.metric in ("resolved", "resolved_late", "reopened"):
        qs = qs.filter(status__in=CLOSED_STATUSES)
        if since:
            qs = qs.filter(closed_at__gte=since, closed_at__lt=until)
        if f.metric == "resolved_late":
            qs = qs.filter(closed_at__gt=F("due_at"))
        if f.metric == "reopened":
            qs = qs.filter(events__to_status="reopened").distinct()
        return qs.order_by("-closed_at", "-id")
    qs = qs.filter(status__in=OPEN_STATUSES)
    if f.metric == "overdue":
        qs = qs.filter(due_at__lt=timezone.now(), paused_since__isnull=True)
    return qs.order_by("due_at", "id")
