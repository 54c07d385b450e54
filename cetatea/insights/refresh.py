"""Keep the counts up to date: an incremental refresh and a full rebuild.

The incremental refresh reads the rows added since the last run (by id, with an overlap
of ``OVERLAP`` ids for transactions that committed late), recomputes the facts of the
cases, entries and calls they touch, and adds the difference between each old and new
fact to the counts, in one transaction with the new marks: running it twice changes
nothing, and a run that fails leaves everything as it was. The full rebuild recomputes
every fact. Both replace the snapshot of open and overdue work.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count as DbCount
from django.db.models import Max, Min, Q
from django.utils import timezone

from cetatea.cases.choices import OPEN_STATUSES
from cetatea.cases.models import Case, CaseEvent, Interaction, Photo
from cetatea.insights import metrics as m
from cetatea.insights.facts import case_facts, entry_facts, robot_facts
from cetatea.insights.models import Count, Fact, Grain, RefreshState, Snapshot, Source
from cetatea.insights.selectors import forget
from cetatea.portal.models import Feedback
from cetatea.registry.choices import DocRegime, EntryStatus
from cetatea.registry.models import Entry, EntryEvent
from cetatea.telephony.models import RobotCall

FACT_VERSION = 3  # 2: city-wide area and channel counts, 2^-8 heat-map cells; 3: weeks
STATE = "main"
OVERLAP = 1000  # ids re-read on each run for transactions that committed after a later id
BATCH = 2000
# Robot calls change while they last: calls started this long before the last run are
# read again.
ROBOT_OPEN_WINDOW = dt.timedelta(hours=2)

_BUILDERS: dict[int, Callable[[Iterable[int]], dict]] = {
    Source.CASE: case_facts,
    Source.ENTRY: entry_facts,
    Source.ROBOT_CALL: robot_facts,
}
# (mark name, model, the column naming the source row, the source)
_FEEDS = (
    ("caseevent", CaseEvent, "case_id", Source.CASE),
    ("interaction", Interaction, "case_id", Source.CASE),
    ("photo", Photo, "case_id", Source.CASE),
    ("feedback", Feedback, "case_id", Source.CASE),
    ("entryevent", EntryEvent, "entry_id", Source.ENTRY),
    ("robotcall", RobotCall, "id", Source.ROBOT_CALL),
)

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class Result:
    full: bool
    sources: dict[str, int] = field(default_factory=dict)  # how many facts recomputed
    counts_changed: int = 0
    seconds: float = 0.0


# ------------------------------------------------------------------------ accumulation


class Totals:
    """Counts being built, per day: (dim, key) x day x metric. Month rows are derived
    from the day rows when the totals are read (``nonzero``)."""

    def __init__(self):
        self.counts: dict[tuple, int] = {}  # ((dim, key), day, metric) -> n
        self.hists: dict[tuple, dict] = {}  # ((dim, key), day, metric) -> {bucket: n}

    def add(self, data: dict | None, sign: int) -> None:
        if not data:
            return
        keys = data["k"]
        cell = keys.get(m.CELL_DIM)
        # Every metric: department+category, area, channel (and the one dimension of an
        # entry or a call); counts only: a department's areas and channels.
        full, counts_only = [], []
        for dim, key in keys.items():
            if dim == m.CELL_DIM:
                continue
            if dim in _CITY_PART:
                full.append((_CITY_PART[dim], key.split("|", 1)[1]))
                counts_only.append((dim, key))
            else:
                full.append((dim, key))
        plain = full + counts_only
        counts, hists = self.counts, self.hists
        for day, metric, value in data["m"]:
            if metric in m.HISTOGRAMS:
                b = str(m.bucket(value))
                for dk in full:
                    k = (dk, day, metric)
                    counts[k] = counts.get(k, 0) + sign
                    hist = hists.get(k)
                    if hist is None:
                        hist = hists[k] = {}
                    hist[b] = hist.get(b, 0) + sign
                continue
            v = sign * value
            for dk in plain:
                k = (dk, day, metric)
                counts[k] = counts.get(k, 0) + v
            if cell is not None and metric == m.RECEIVED:
                k = ((m.CELL_DIM, cell), day, metric)
                counts[k] = counts.get(k, 0) + v

    def merge(self, counts: dict, hists: dict) -> None:
        """Add another ``Totals``' counts and histograms (a worker's piece)."""
        mine = self.counts
        if not mine:
            self.counts = dict(counts)
        else:
            for k, n in counts.items():
                mine[k] = mine.get(k, 0) + n
        for k, hist in hists.items():
            into = self.hists.get(k)
            if into is None:
                self.hists[k] = hist
                continue
            for b, c in hist.items():
                into[b] = into.get(b, 0) + c

    def nonzero(self) -> dict[tuple, list]:
        """{(dim, grain, period ordinal, key, metric): [n, hist or None]}: day, week
        (from Monday) and month rows, without the rows that add up to nothing."""
        out: dict[tuple, list] = {}
        spans: dict[int, tuple] = {}  # day -> ((MONTH, first day), (WEEK, its Monday))
        for k, n in self.counts.items():
            (dim, key), day, metric = k
            hist = self.hists.get(k)
            span = spans.get(day)
            if span is None:
                month = dt.date.fromordinal(day).replace(day=1).toordinal()
                span = spans[day] = ((Grain.MONTH, month), (Grain.WEEK, day - (day - 1) % 7))
            for grain, period in span:
                slot = out.get((dim, grain, period, key, metric))
                if slot is None:
                    slot = out[(dim, grain, period, key, metric)] = [0, None]
                slot[0] += n
                if hist is not None:
                    merged = slot[1] if slot[1] is not None else {}
                    for b, c in hist.items():
                        merged[b] = merged.get(b, 0) + c
                    slot[1] = merged
            out[(dim, Grain.DAY, day, key, metric)] = [n, hist]
        result = {}
        for k, (n, hist) in out.items():
            if hist is not None:
                hist = {b: c for b, c in hist.items() if c}
            if n or hist:
                result[k] = [n, hist or None]
        return result


_CITY_PART = {"da": "a", "dch": "ch"}  # the city-wide dimension of a department's one


# Raw statements for the bulk of the rows (the ORM's objects cost more than the SQL).
_INSERT_COUNT = (
    "INSERT INTO insights_count (dim, grain, period, key, metric, n, hist) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_UPDATE_COUNT = "UPDATE insights_count SET n = %s, hist = %s WHERE id = %s"
_INSERT_FACT = "INSERT INTO insights_fact (source, source_id, data) VALUES (%s, %s, %s)"


def _count_row(key: tuple, n: int, hist: dict | None) -> tuple:
    dim, grain, period, k, metric = key
    return (
        dim,
        grain,
        dt.date.fromordinal(period).isoformat(),
        k,
        metric,
        n,
        json.dumps(hist, separators=(",", ":")) if hist else None,
    )


def _executemany(sql: str, rows: list) -> None:
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)


# ----------------------------------------------------------------------------- state


def _state(lock: bool) -> RefreshState:
    qs = RefreshState.objects.select_for_update() if lock else RefreshState.objects
    state = qs.filter(pk=STATE).first()
    if state is None:
        RefreshState.objects.get_or_create(name=STATE)
        state = qs.get(pk=STATE)
    return state


def _max_ids() -> dict[str, int]:
    return {name: model.objects.aggregate(v=Max("id"))["v"] or 0 for name, model, _c, _s in _FEEDS}


# ------------------------------------------------------------------------ incremental


def refresh(*, progress: Progress | None = None, now: dt.datetime | None = None) -> Result:
    """Bring the counts up to date with what was written since the last run."""
    started = timezone.now()
    with transaction.atomic():
        state = _state(lock=True)
        if state.version != FACT_VERSION or not state.marks:
            return rebuild(progress=progress, now=now, _locked=state)
        marks = dict(state.marks)
        tops = _max_ids()
        dirty: dict[int, set[int]] = defaultdict(set)
        for name, model, column, source in _FEEDS:
            low = max(marks.get(name, 0) - OVERLAP, 0)
            ids = model.objects.filter(id__gt=low, id__lte=tops[name]).values_list(
                column, flat=True
            )
            dirty[source].update(i for i in ids if i is not None)
        since = (state.refreshed_at or started) - ROBOT_OPEN_WINDOW
        dirty[Source.ROBOT_CALL].update(
            RobotCall.objects.filter(started_at__gte=since).values_list("id", flat=True)
        )
        delta = Totals()
        result = Result(full=False)
        for source, ids in dirty.items():
            ids = sorted(ids)
            result.sources[Source(source).name.lower()] = len(ids)
            for start in range(0, len(ids), BATCH):
                chunk = ids[start : start + BATCH]
                _apply_chunk(source, chunk, delta)
                if progress:
                    progress(Source(source).name.lower(), start + len(chunk), len(ids))
        result.counts_changed = _write_delta(delta.nonzero())
        _take_snapshot(now)
        state.marks = tops
        state.refreshed_at = state.snapshot_at = timezone.now()
        state.token = uuid.uuid4().hex
        state.save()
    forget()
    result.seconds = (timezone.now() - started).total_seconds()
    return result


def _apply_chunk(source: int, ids: list[int], delta: Totals) -> None:
    new = _BUILDERS[source](ids)
    old = dict(
        Fact.objects.filter(source=source, source_id__in=ids).values_list("source_id", "data")
    )
    to_create, to_update, to_delete = [], [], []
    existing = dict(
        Fact.objects.filter(source=source, source_id__in=ids).values_list("source_id", "id")
    )
    for source_id in ids:
        before, after = old.get(source_id), new.get(source_id)
        if before == after:
            continue
        delta.add(before, -1)
        delta.add(after, +1)
        if after is None:
            to_delete.append(existing[source_id])
        elif source_id in existing:
            to_update.append(
                Fact(id=existing[source_id], source=source, source_id=source_id, data=after)
            )
        else:
            to_create.append(Fact(source=source, source_id=source_id, data=after))
    if to_delete:
        Fact.objects.filter(id__in=to_delete).delete()
    if to_update:
        Fact.objects.bulk_update(to_update, ["data"], batch_size=500)
    if to_create:
        Fact.objects.bulk_create(to_create, batch_size=500)


def _write_delta(delta: dict[tuple, list]) -> int:
    """Add ``delta`` to the stored counts, reading and writing only the rows it names;
    rows that fall to zero are deleted."""
    if not delta:
        return 0
    groups: dict[tuple, tuple[set, set]] = defaultdict(lambda: (set(), set()))
    for dim, grain, period, key, metric in delta:
        keys, metrics = groups[(dim, grain, period)]
        keys.add(key)
        metrics.add(metric)
    stored: dict[tuple, tuple] = {}
    items = list(groups.items())
    for start in range(0, len(items), 200):
        condition = Q()
        for (dim, grain, period), (keys, metrics) in items[start : start + 200]:
            condition |= Q(
                dim=dim,
                grain=grain,
                period=dt.date.fromordinal(period),
                key__in=sorted(keys),
                metric__in=sorted(metrics),
            )
        for pk, dim, grain, period, key, metric, n, hist in Count.objects.filter(
            condition
        ).values_list("id", "dim", "grain", "period", "key", "metric", "n", "hist"):
            stored[(dim, grain, period.toordinal(), key, metric)] = (pk, n, hist)
    create, update, delete = [], [], []
    for key, (n, hist) in delta.items():
        row = stored.get(key)
        if row is None:
            create.append(_count_row(key, n, hist))
            continue
        pk, old_n, old_hist = row
        n += old_n
        merged = dict(old_hist or {})
        for b, c in (hist or {}).items():
            merged[b] = merged.get(b, 0) + c
        merged = {b: c for b, c in merged.items() if c}
        if n == 0 and not merged:
            delete.append(pk)
        else:
            update.append((n, json.dumps(merged, separators=(",", ":")) if merged else None, pk))
    for start in range(0, len(delete), 500):
        Count.objects.filter(pk__in=delete[start : start + 500]).delete()
    _executemany(_UPDATE_COUNT, update)
    _executemany(_INSERT_COUNT, create)
    return len(create) + len(update) + len(delete)


# --------------------------------------------------------------------------- rebuild


_MODELS = {Source.CASE: Case, Source.ENTRY: Entry, Source.ROBOT_CALL: RobotCall}
RANGE = 50_000  # ids per piece of work of a rebuild with several workers


def facts_of_range(source: int, lo: int, hi: int) -> tuple[int, list, Totals]:
    """The facts (as rows to insert) and the totals of the source rows with ids in
    [lo, hi]: the work of one piece of a rebuild, in this process or a worker."""
    ids = list(
        _MODELS[source]
        .objects.filter(id__gte=lo, id__lte=hi)
        .order_by("id")
        .values_list("id", flat=True)
    )
    totals = Totals()
    rows = []
    for start in range(0, len(ids), BATCH):
        for i, data in _BUILDERS[source](ids[start : start + BATCH]).items():
            if data:
                rows.append((source, i, json.dumps(data, separators=(",", ":"))))
                totals.add(data, +1)
    return len(ids), rows, totals


def _pieces(source: int) -> list[tuple[int, int, int]]:
    bounds = _MODELS[source].objects.aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is None:
        return []
    return [
        (source, lo, min(lo + RANGE - 1, bounds["hi"]))
        for lo in range(bounds["lo"], bounds["hi"] + 1, RANGE)
    ]


def rebuild(
    *,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    workers: int = 1,
    _locked=None,
) -> Result:
    """Recompute every fact and every count from the raw tables.

    ``workers`` > 1 computes the facts in that many processes (the command's ``--full``
    uses every core); they read the database committed before the rebuild, which is
    what the rebuild counts anyway (the marks are taken first).
    """
    started = timezone.now()
    result = Result(full=True)
    # What the facts are computed from: every id up to these marks (later rows are the
    # next incremental refresh's). The facts are computed before the write transaction,
    # so that worker processes can read while nothing is locked.
    tops = _max_ids()
    totals = Totals()
    facts: list[tuple] = []
    totals_n = {Source(s).name.lower(): _MODELS[s].objects.count() for s in _MODELS}
    done = dict.fromkeys(totals_n, 0)

    def take(source, n, rows, counts, hists):
        name = Source(source).name.lower()
        facts.extend(rows)
        totals.merge(counts, hists)
        done[name] += n
        if progress:
            progress(name, done[name], totals_n[name])

    jobs = [piece for source in _MODELS for piece in _pieces(source)]
    if workers > 1 and len(jobs) > 1 and not connection.in_atomic_block:
        import multiprocessing

        from cetatea.insights import workers as worker

        context = multiprocessing.get_context("spawn")
        database = {"NAME": connection.settings_dict["NAME"]}
        with context.Pool(workers, initializer=worker.start, initargs=(database,)) as pool:
            for source, n, rows, counts, hists in pool.imap_unordered(worker.job, jobs):
                take(source, n, rows, counts, hists)
    else:
        for source, lo, hi in jobs:
            n, rows, part = facts_of_range(source, lo, hi)
            take(source, n, rows, part.counts, part.hists)
    with transaction.atomic():
        state = _locked or _state(lock=True)
        Count.objects.all().delete()
        Fact.objects.all().delete()
        for start in range(0, len(facts), 10000):
            _executemany(_INSERT_FACT, facts[start : start + 10000])
            if progress:
                progress("facts", min(start + 10000, len(facts)), len(facts))
        facts = None  # free them while writing the counts
        result.sources = done
        rows = totals.nonzero()
        totals = None  # free it while writing
        batch = []
        written = 0
        # In the order of the index the pages read by: a period's rows of one dimension
        # are then neighbours in the table too, read from a few pages.
        for key in sorted(rows):
            n, hist = rows[key]
            batch.append(_count_row(key, n, hist))
            if len(batch) >= 10000:
                _executemany(_INSERT_COUNT, batch)
                written += len(batch)
                batch = []
                if progress:
                    progress("counts", written, len(rows))
        _executemany(_INSERT_COUNT, batch)
        written += len(batch)
        if progress:
            progress("counts", written, len(rows))
        result.counts_changed = written
        _take_snapshot(now)
        state.marks = tops
        state.version = FACT_VERSION
        state.refreshed_at = state.rebuilt_at = state.snapshot_at = timezone.now()
        state.token = uuid.uuid4().hex
        state.save()
    forget()
    result.seconds = (timezone.now() - started).total_seconds()
    return result


# -------------------------------------------------------------------------- snapshot


def _take_snapshot(now: dt.datetime | None) -> None:
    """Open, overdue and paused cases now; open and late petitions and 544 requests."""
    now = now or timezone.now()
    sums: dict[tuple, int] = defaultdict(int)
    for dept, category, area, channel, n_open, n_overdue, n_paused in (
        Case.objects.filter(status__in=OPEN_STATUSES)
        .order_by()
        .values_list("department_id", "category_id", "area_id", "channel")
        .annotate(
            n_open=DbCount("id"),
            n_overdue=DbCount("id", filter=Q(due_at__lt=now, paused_since__isnull=True)),
            n_paused=DbCount("id", filter=Q(paused_since__isnull=False)),
        )
        .values_list(
            "department_id", "category_id", "area_id", "channel", "n_open", "n_overdue", "n_paused"
        )
    ):
        d = dept or 0
        for dim, key in (
            ("dc", f"{d}|{category}"),
            ("da", f"{d}|{area or 0}"),
            ("dch", f"{d}|{channel}"),
            ("a", f"{area or 0}"),
            ("ch", f"{channel}"),
        ):
            sums[(dim, key, m.OPEN_NOW)] += n_open
            sums[(dim, key, m.OVERDUE_NOW)] += n_overdue
            sums[(dim, key, m.PAUSED_NOW)] += n_paused
    today = now.astimezone(m.tz()).date()
    prefixes = {DocRegime.PETITION: m.PETITION, DocRegime.INFO_544: m.INFO_544}
    for point, dept, regime, n_open, n_late in (
        Entry.objects.filter(status=EntryStatus.OPEN, doc_type__regime__in=list(prefixes))
        .order_by()
        .values_list("book__point_id", "department_id", "doc_type__regime")
        .annotate(n_open=DbCount("id"), n_late=DbCount("id", filter=Q(due_date__lt=today)))
        .values_list("book__point_id", "department_id", "doc_type__regime", "n_open", "n_late")
    ):
        key = f"{point}|{dept or 0}"
        sums[(m.REGISTRY_DIM, key, prefixes[regime] + m.LEGAL_OPEN_NOW)] += n_open
        sums[(m.REGISTRY_DIM, key, prefixes[regime] + m.LEGAL_LATE_NOW)] += n_late
    Snapshot.objects.all().delete()
    Snapshot.objects.bulk_create(
        [Snapshot(dim=d, key=k, metric=mt, n=n) for (d, k, mt), n in sums.items() if n],
        batch_size=1000,
    )
