"""Benchmark the management overview (issue 10) at scale (``python bench/insights.py``).

Targets, with 10,000,000 case events: a full backfill (``insights.refresh.rebuild()``)
under 10 minutes; the incremental ``refresh()`` after a day of activity under 10 s; the
city dashboard's p95 under 200 ms.

A throwaway database (SQLite ``/tmp/cetatea_bench_insights.sqlite3``; PostgreSQL
``cetatea_bench_insights`` with ``--pg``, or the database of ``DATABASE_URL``) is
migrated, gets the catalogue and the registry points, then ``--cases`` (2,000,000) cases
over 3 years with about 5 events each (created, assignment, status changes with on_hold
pauses and resumes, public replies, closings, reopenings, a few forwardings), one inbound
interaction per case and some more, photos, feedback, registry entries (petitions, 544
requests, outgoing) with their events and phone-robot calls, inserted with raw
``executemany`` (SQLite) or ``COPY`` (PostgreSQL). Every case row agrees with its events
(status, closed_at, paused_since, due_at). The seed is reused when the database already
holds it (``--reseed`` starts again).

Each database is measured in a child process of its own (the settings read the database
from the environment at import), with ``CETATEA_PLAIN_STATIC=true``:

1. ``rebuild()``: seconds and the child's peak RSS (``--skip-rebuild`` keeps the counts);
2. a day of activity (``--day-cases`` new cases with their events, ``--day-changes``
   status changes and replies on existing cases, all dated today, case rows updated),
   then ``refresh()``: seconds; with ``--verify`` the indicators (30 days, 12 months,
   by department) after the refresh are compared with those of a fresh ``rebuild()``;
3. the city dashboard as a LEADERSHIP user through Django's test ``Client``
   (``--dashboard page``: ``/staff/insights/``, default period and 12 months;
   ``--dashboard selectors``: the selectors the page calls; ``auto``: the page when
   ``insights:dashboard`` resolves), ``--iterations`` (200) requests after a warm-up.

Results go to ``bench/results/insights-latest.json``; a Markdown block is printed.

    python bench/insights.py                          # SQLite, full scale
    python bench/insights.py --pg                     # PostgreSQL too
    python bench/insights.py --cases 20000 --db-path /tmp/small.sqlite3   # a quick run
    python bench/insights.py --skip-rebuild --dashboard page   # the page only, again
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, _with_db, percentile, spawn_child  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "insights-latest.json"
DEFAULT_SQLITE = Path("/tmp/cetatea_bench_insights.sqlite3")  # noqa: S108
PG_NAME = "cetatea_bench_insights"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_USER = "bench-insights-leadership"
TARGET_REBUILD_S = 600.0
TARGET_REFRESH_S = 10.0
TARGET_P95_MS = 200.0
YEARS = 3
CHUNK = 20_000  # cases per insert transaction
CENTRE = (46.0705, 23.5805)  # Alba Iulia

# ------------------------------------------------------------------------------ parent


def _pg_url(args) -> str | None:
    import psycopg

    explicit = os.environ.get("DATABASE_URL")
    if explicit and explicit.startswith("postgres"):
        return explicit
    target = _with_db(PG_ADMIN_URL, PG_NAME)
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [PG_NAME]
            ).fetchone()
            if exists and args.reseed:
                conn.execute(f'DROP DATABASE "{PG_NAME}" WITH (FORCE)')
                exists = None
            if not exists:
                conn.execute(f'CREATE DATABASE "{PG_NAME}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL not used: {exc}".strip(), file=sys.stderr)
        return None
    return target


def _options(args) -> dict:
    names = (
        "cases",
        "day_cases",
        "day_changes",
        "iterations",
        "dashboard",
        "entries",
        "robot_calls",
        "seed",
    )
    return {n: getattr(args, n) for n in names}


def _flags(args) -> list[str]:
    return [n for n in ("skip_rebuild", "verify", "reseed") if getattr(args, n)]


def run_child(label: str, env_update: dict, drop: list[str], args) -> dict:
    env_update = {**env_update, "CETATEA_LOG_LEVEL": "WARNING", "CETATEA_PLAIN_STATIC": "true"}
    drop = drop + ["CETATEA_EMAIL_BACKEND", "REDIS_URL"]
    # Seeding runs in a process of its own so that the measuring child's peak RSS is the
    # rebuild's, not the seed's.
    seeded = spawn_child(__file__, f"{label}:seed", env_update, drop, _options(args), _flags(args))
    flags = [f for f in _flags(args) if f != "reseed"]
    run = spawn_child(__file__, label, env_update, drop, _options(args), flags)
    run["seed"]["seconds"] = seeded.get("seconds")
    return run


def markdown(runs: list[dict], meta: dict) -> str:
    lines = [
        f"\n### Management overview (bench/insights.py) — {meta['date'][:10]}\n",
        f"{meta['cpus']} CPUs, Python {meta['python']}; load average at the start "
        f"{meta['load_start']}, at the end {meta['load_end']} (other jobs were running).\n",
    ]
    for run in runs:
        s = run["seed"]
        lines.append(
            f"\n**{run['label']}** — {s['cases']:,} cases, {s['events']:,} case events, "
            f"{s['interactions']:,} interactions, {s['photos']:,} photos, "
            f"{s['feedback']:,} feedback, {s['entries']:,} registry entries, "
            f"{s['robot_calls']:,} robot calls"
            + (f" (seeded in {s['seconds']:.0f} s)" if s.get("seconds") else " (reused)")
            + "\n"
        )
        lines.append("| measurement | result | target | met |")
        lines.append("| --- | ---: | ---: | --- |")
        rb = run.get("rebuild")
        if rb:
            ok = "yes" if rb["seconds"] < TARGET_REBUILD_S else "**no**"
            lines.append(
                f"| full backfill `rebuild()` | {rb['seconds']:.0f} s, peak RSS "
                f"{rb['peak_rss_mb']:,.0f} MB, {rb['counts']:,} counts, "
                f"{rb['facts']:,} facts | < 600 s | {ok} |"
            )
        day = run["day"]
        ok = "yes" if day["refresh_s"] < TARGET_REFRESH_S else "**no**"
        lines.append(
            f"| day of activity ({day['new_cases']:,} new cases, {day['changes']:,} "
            f"changes, {day['events']:,} events) then `refresh()` | "
            f"{day['refresh_s']:.1f} s ({day['facts_recomputed']:,} facts, "
            f"{day['counts_changed']:,} counts changed) | < 10 s | {ok} |"
        )
        if run.get("verify"):
            v = run["verify"]
            lines.append(
                f"| refresh = rebuild (indicators compared) | "
                f"{'identical' if v['equal'] else '**differ**: ' + ', '.join(v['diff'][:5])} "
                f"| identical | {'yes' if v['equal'] else '**no**'} |"
            )
        for row in run["dashboard"]:
            ok = "yes" if row["p95_ms"] < TARGET_P95_MS else "**no**"
            lines.append(
                f"| {row['label']} ({row['n']} requests) | p50 {row['p50_ms']:.0f} ms, "
                f"p95 {row['p95_ms']:.0f} ms, max {row['max_ms']:.0f} ms, "
                f"{row['queries']} SQL | p95 < 200 ms | {ok} |"
            )
    return "\n".join(lines)


def parent(args) -> None:
    load_start = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    runs = []
    if not args.no_sqlite:
        path = Path(args.db_path)
        if args.reseed:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        runs.append(run_child("SQLite", {"CETATEA_SQLITE_PATH": str(path)}, ["DATABASE_URL"], args))
    if args.pg:
        url = _pg_url(args)
        if url:
            runs.append(run_child("PostgreSQL", {"DATABASE_URL": url}, [], args))
    meta = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_start": load_start,
        "load_end": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"meta": meta, "runs": runs}, indent=2, ensure_ascii=False))
    print(markdown(runs, meta))
    print(f"\nResults written to {RESULTS.relative_to(ROOT)}")


# ------------------------------------------------------------------------------- child


class Writer:
    """Raw bulk inserts: ``executemany`` on SQLite, ``COPY`` on PostgreSQL."""

    def __init__(self):
        from django.db import connection

        connection.ensure_connection()
        self.django = connection
        self.raw = connection.connection
        self.pg = connection.vendor == "postgresql"
        self.open = False
        if not self.pg:
            # A big page cache: the case table's indexes are updated in random order.
            for pragma in ("synchronous = OFF", "cache_size = -2000000", "temp_store = MEMORY"):
                self.raw.execute(f"PRAGMA {pragma}")

    def ts(self, seconds: float):
        """An epoch time as the column value (SQLite: Django's naive UTC text)."""
        value = dt.datetime.fromtimestamp(int(seconds), dt.UTC)
        return value if self.pg else value.replace(tzinfo=None).isoformat(" ")

    def day(self, seconds: float):
        value = dt.datetime.fromtimestamp(int(seconds), dt.UTC).date()
        return value if self.pg else value.isoformat()

    def begin(self) -> None:
        # Django keeps the connection in autocommit: without a transaction of our own
        # every row would be committed alone.
        if not self.open:
            self.raw.execute("BEGIN")
            self.open = True

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        self.begin()
        cols = ", ".join(f'"{c}"' for c in columns)
        if self.pg:
            with self.raw.cursor() as cur, cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as cp:
                for row in rows:
                    cp.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            self.raw.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)  # noqa: S608

    def commit(self) -> None:
        if self.open:
            self.raw.execute("COMMIT")
            self.open = False

    def fix_sequences(self, tables: list[str]) -> None:
        if not self.pg:
            return
        self.begin()
        with self.raw.cursor() as cur:
            for table in tables:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
                    f'COALESCE((SELECT MAX(id) FROM "{table}"), 1))'
                )
        self.commit()

    def max_id(self, table: str) -> int:
        with self.django.cursor() as cur:
            cur.execute(f'SELECT MAX(id) FROM "{table}"')  # noqa: S608
            return cur.fetchone()[0] or 0


CASE_COLS = (
    "id", "reference", "year", "sequence", "channel", "latitude", "longitude",
    "address_text", "contact_name", "contact_email", "contact_phone", "title", "description",
    "status", "priority", "regime", "registered_at", "due_at", "extended_days",
    "paused_since", "closed_at", "created_at", "updated_at", "area_id", "category_id",
    "department_id", "operator_id", "answers", "publication", "show_name",
    "supporters_count",
)  # fmt: skip
EVENT_COLS = (
    "id", "kind", "handler", "from_status", "to_status", "text", "is_public", "data",
    "created_at", "case_id",
)  # fmt: skip
INTERACTION_COLS = (
    "id", "channel", "direction", "handler", "occurred_at", "summary", "external_id",
    "created_at", "case_id",
)  # fmt: skip
PHOTO_COLS = (
    "id", "original", "full", "thumbnail", "status", "error", "original_name", "is_public",
    "is_redacted", "sort_order", "created_at", "case_id",
)  # fmt: skip
FEEDBACK_COLS = ("id", "fixed", "satisfaction", "comment", "created_at", "case_id")
ENTRY_COLS = (
    "id", "number", "registered_at", "direction", "channel", "sender_reference", "pages",
    "annexes", "sender_kind", "sender_name", "sender_address", "sender_email",
    "sender_phone", "summary", "summary_key", "dispatched_at", "resolution", "addressee",
    "status", "due_date", "extended_days", "forwarded_to", "closed_at", "status_code",
    "submit_token", "version", "created_at", "updated_at", "department_id", "doc_type_id",
    "book_id", "sender_key",
)  # fmt: skip
ENTRY_EVENT_COLS = ("id", "kind", "text", "data", "created_at", "entry_id")
ROBOT_COLS = (
    "id", "call_id", "transport", "caller_hash", "started_at", "ended_at",
    "duration_seconds", "language", "identified", "transferred", "options", "outcome",
    "state",
)  # fmt: skip

HOUR = 3600.0
DAY = 86400.0
CHANNELS = ["web"] * 30 + ["map"] * 15 + ["open311"] * 10 + ["phone"] * 20 + ["robot"] * 5
CHANNELS += ["email"] * 10 + ["counter"] * 5 + ["letter"] * 3 + ["sms"] * 2
CLOSINGS = ["fixed"] * 80 + ["not_responsible"] * 8 + ["duplicate"] * 5
CLOSINGS += ["unable_to_fix"] * 4 + ["withdrawn"] * 3


class CaseMaker:
    """Cases and their events, consistent: the case row is the state after its last
    event, and no event is later than ``cutoff``."""

    def __init__(self, w: Writer, rng: random.Random, categories, areas):
        self.w, self.rng, self.categories, self.areas = w, rng, categories, areas
        self.events: list[tuple] = []
        self.event_id = w.max_id("cases_caseevent")
        self.interactions: list[tuple] = []
        self.interaction_id = w.max_id("cases_interaction")
        self.photos: list[tuple] = []
        self.photo_id = w.max_id("cases_photo")
        self.feedback: list[tuple] = []
        self.feedback_id = w.max_id("portal_feedback")

    def event(self, case_id, kind, at, from_status="", to_status="", public=False):
        self.event_id += 1
        self.events.append(
            (self.event_id, kind, "staff", from_status, to_status, "", public, "{}",
             self.w.ts(at), case_id)
        )  # fmt: skip

    def case(self, case_id: int, registered: float, cutoff: float) -> tuple:
        rng, ts = self.rng, self.w.ts
        cat_id, dept_id, operator_id, target_hours, regime = rng.choice(self.categories)
        channel = rng.choice(CHANNELS)
        located = channel in ("map", "open311") or rng.random() < 0.4
        lat = CENTRE[0] + rng.uniform(-0.03, 0.03) if located else None
        lon = CENTRE[1] + rng.uniform(-0.04, 0.04) if located else None
        area = rng.choice(self.areas) if rng.random() < 0.85 else None
        due = registered + target_hours * HOUR
        status, paused_since, closed_at = "new", None, None
        self.event(case_id, "created", registered, "", "new")
        t = registered
        alive = True

        def step(hours_low, hours_high):
            nonlocal t, alive
            t += rng.uniform(hours_low, hours_high) * HOUR
            if t > cutoff:
                alive = False
            return alive

        def move(to, public=True):
            nonlocal status, paused_since, closed_at
            self.event(case_id, "status", t, status, to, public)
            if to == "on_hold":
                paused_since = t
            elif status == "on_hold":
                paused_since = None
            if to in CLOSED:
                closed_at = t
            elif status in CLOSED:
                closed_at = None
            status = to

        if rng.random() < 0.8 and step(0.1, 4):
            self.event(case_id, "assignment", t)
        if alive and step(0.5, 24):
            move("acknowledged")
        if alive and rng.random() < 0.25:
            if step(1, 72):
                move("on_hold")
            if alive and rng.random() < 0.85 and step(2, 240):
                move("in_progress")
        elif alive and rng.random() < 0.5 and step(1, 48):
            move("in_progress")
        if alive and rng.random() < 0.4 and step(1, 48):
            self.event(case_id, "public_reply", t, public=True)
        if alive and rng.random() < 0.03 and step(0, 10):
            self.event(case_id, "internal_note", t)
        if alive and rng.random() < 0.02 and step(0, 10):
            self.event(case_id, "forwarded", t)
        if alive and status != "on_hold" and rng.random() < 0.92:
            if step(0, rng.expovariate(1 / (target_hours * 1.6))):
                move(rng.choice(CLOSINGS))
                if rng.random() < 0.05 and step(24, 400):
                    move("reopened")
                    if rng.random() < 0.8 and step(4, 200):
                        move("fixed")
        # interactions, photos, feedback
        self.interaction_id += 1
        self.interactions.append(
            (self.interaction_id, channel, "in", "staff", ts(registered), "", "",
             ts(registered), case_id)
        )  # fmt: skip
        extra = rng.random()
        if extra < 0.1:
            at = registered + rng.uniform(1, 100) * HOUR
            if at <= cutoff:
                self.interaction_id += 1
                direction = "in" if extra < 0.06 else "out"
                self.interactions.append(
                    (self.interaction_id, channel, direction, "staff", ts(at), "", "", ts(at),
                     case_id)
                )  # fmt: skip
        if rng.random() < (0.5 if channel in ("map", "open311") else 0.05):
            self.photo_id += 1
            self.photos.append(
                (self.photo_id, f"bench/{case_id}.jpg", "", "", "ready", "", "", True, False, 0,
                 ts(registered), case_id)
            )  # fmt: skip
        if closed_at is not None and rng.random() < 0.06:
            at = closed_at + rng.uniform(1, 72) * HOUR
            if at <= cutoff:
                self.feedback_id += 1
                mark = rng.choice((1, 2, 3, 4, 4, 5, 5, 5))
                self.feedback.append(
                    (self.feedback_id, "yes" if mark > 2 else "no", mark, "", ts(at), case_id)
                )
        year = dt.datetime.fromtimestamp(registered, dt.UTC).year
        return (
            case_id, f"B{case_id:08d}", year, case_id, channel, lat, lon, "", "", "", "",
            f"Bench case {case_id}", "", status, 2, regime, ts(registered), ts(due), 0,
            ts(paused_since) if paused_since else None,
            ts(closed_at) if closed_at else None, ts(registered), ts(registered), area,
            cat_id, dept_id, operator_id, "{}", "private", False, 0,
        )  # fmt: skip

    def flush(self) -> None:
        w = self.w
        w.insert("cases_caseevent", EVENT_COLS, self.events)
        w.insert("cases_interaction", INTERACTION_COLS, self.interactions)
        w.insert("cases_photo", PHOTO_COLS, self.photos)
        w.insert("portal_feedback", FEEDBACK_COLS, self.feedback)
        self.events, self.interactions, self.photos, self.feedback = [], [], [], []


CLOSED = {"fixed", "not_responsible", "duplicate", "unable_to_fix", "withdrawn"}


def _catalogue():
    from cetatea.catalog.models import Area, Category

    categories = list(
        Category.objects.values_list(
            "id", "department_id", "operator_id", "target_hours", "regime"
        ).order_by("id")
    )
    categories = [(c, d, o, max(h or 72, 1), r) for c, d, o, h, r in categories]
    return categories, list(Area.objects.values_list("id", flat=True))


def _seed_cutoff() -> float:
    """The seed ends at midnight today (local): the day of activity comes after it."""
    from django.utils import timezone

    from cetatea.insights import metrics as m

    local = timezone.now().astimezone(m.tz())
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def counts() -> dict:
    from cetatea.cases.models import Case, CaseEvent, Interaction, Photo
    from cetatea.portal.models import Feedback
    from cetatea.registry.models import Entry
    from cetatea.telephony.models import RobotCall

    return {
        "cases": Case.objects.count(),
        "events": CaseEvent.objects.count(),
        "interactions": Interaction.objects.count(),
        "photos": Photo.objects.count(),
        "feedback": Feedback.objects.count(),
        "entries": Entry.objects.count(),
        "robot_calls": RobotCall.objects.count(),
    }


def seed(args) -> dict:
    import io

    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    have = counts()
    if have["cases"] >= args.cases and have["robot_calls"] > 0 and have["entries"] > 0:
        print(f"  seed reused: {have['cases']:,} cases, {have['events']:,} events", flush=True)
        return {**have, "seconds": None}
    if have["cases"]:
        raise SystemExit(
            f"the bench database holds a partial seed ({have['cases']:,} cases): "
            "run again with --reseed"
        )
    started = time.perf_counter()
    call_command("load_catalog", stdout=io.StringIO())
    call_command("load_registry", stdout=io.StringIO())
    rng = random.Random(args.seed)
    w = Writer()
    cutoff = _seed_cutoff()
    begin = cutoff - YEARS * 365 * DAY
    categories, areas = _catalogue()
    maker = CaseMaker(w, rng, categories, areas)
    # registration times in order (ids follow time, as in production)
    span = cutoff - begin - HOUR
    case_id = w.max_id("cases_case")
    for start in range(0, args.cases, CHUNK):
        n = min(CHUNK, args.cases - start)
        times = sorted(begin + rng.random() * span for _ in range(n))
        rows = []
        for registered in times:
            case_id += 1
            rows.append(maker.case(case_id, registered, cutoff))
        w.insert("cases_case", CASE_COLS, rows)
        maker.flush()
        w.commit()
        done = start + n
        if done % (CHUNK * 10) == 0 or done == args.cases:
            elapsed = time.perf_counter() - started
            print(f"  {done:,} cases, {maker.event_id:,} events, {elapsed:.0f} s", flush=True)
    _seed_registry(w, rng, args.entries, begin, cutoff)
    _seed_robot(w, rng, args.robot_calls, begin, cutoff)
    w.fix_sequences(
        [
            "cases_case", "cases_caseevent", "cases_interaction", "cases_photo",
            "portal_feedback", "registry_entry", "registry_entryevent",
            "telephony_robotcall",
        ]
    )  # fmt: skip
    with w.django.cursor() as cur:
        cur.execute("ANALYZE")
    seconds = time.perf_counter() - started
    have = counts()
    print(f"  seeded {have} in {seconds:.0f} s", flush=True)
    return {**have, "seconds": seconds}


def _seed_registry(w: Writer, rng: random.Random, total: int, begin: float, cutoff: float):
    from cetatea.catalog.models import Department
    from cetatea.registry.models import DocumentType, RegistryBook, RegistryPoint

    points = list(RegistryPoint.objects.values_list("id", flat=True))
    types = list(DocumentType.objects.values_list("id", "regime", "term_days"))
    legal = [t for t in types if t[1] in ("petition", "info_544")]
    departments = list(Department.objects.values_list("id", flat=True))
    first_year = dt.datetime.fromtimestamp(begin, dt.UTC).year
    last_year = dt.datetime.fromtimestamp(cutoff, dt.UTC).year
    books: dict[tuple[int, int], list] = {}
    for point in points:
        for year in range(first_year, last_year + 1):
            obj, _ = RegistryBook.objects.get_or_create(point_id=point, year=year)
            books[(point, year)] = [obj.pk, obj.last_number]
    entry_id = w.max_id("registry_entry")
    event_id = w.max_id("registry_entryevent")
    entries, events = [], []
    times = sorted(begin + rng.random() * (cutoff - begin - HOUR) for _ in range(total))
    ts, day = w.ts, w.day
    for registered in times:
        point = rng.choice(points)
        year = dt.datetime.fromtimestamp(registered, dt.UTC).year
        book = books[(point, year)]
        book[1] += 1
        entry_id += 1
        r = rng.random()
        direction = "in" if r < 0.7 else ("out" if r < 0.9 else "int")
        doc_type, regime, term = (
            rng.choice(legal) if direction == "in" and rng.random() < 0.6 else rng.choice(types)
        )
        term = term or 30
        due = registered + term * 1.4 * DAY if direction == "in" else None
        status, dispatched, closed, extended = "done", None, None, 0
        event_id += 1
        events.append((event_id, "registered", "", "{}", ts(registered), entry_id))
        if direction == "in":
            end = registered + rng.uniform(1, term * 1.6) * DAY
            if rng.random() < 0.05:
                extended = term
                due = (due or registered) + term * DAY
                at = registered + rng.uniform(1, term) * DAY
                if at <= cutoff:
                    event_id += 1
                    events.append((event_id, "extended", "", "{}", ts(at), entry_id))
            if end > cutoff:
                status = "open"
            else:
                s = rng.random()
                if s < 0.8:
                    status, dispatched, closed = "answered", end, end
                elif s < 0.88:
                    status, closed = "forwarded", end
                    event_id += 1
                    late = '{"late": true}' if rng.random() < 0.2 else '{"late": false}'
                    events.append((event_id, "forwarded", "", late, ts(end), entry_id))
                elif s < 0.95:
                    status, closed = "filed", end
                else:
                    status, closed = "refused", end
        entries.append(
            (entry_id, book[1], ts(registered), direction, "counter", "", 1, 0, "person",
             "Bench Sender", "", "", "", f"Bench entry {entry_id}", "bench entry",
             ts(dispatched) if dispatched else None, "", "", status,
             day(due) if due else None, extended, "", ts(closed) if closed else None, "", "",
             1, ts(registered), ts(registered),
             rng.choice(departments) if rng.random() < 0.9 else None, doc_type, book[0],
             "sender bench")
        )  # fmt: skip
        if len(entries) >= 20_000:
            w.insert("registry_entry", ENTRY_COLS, entries)
            w.insert("registry_entryevent", ENTRY_EVENT_COLS, events)
            w.commit()
            entries, events = [], []
    w.insert("registry_entry", ENTRY_COLS, entries)
    w.insert("registry_entryevent", ENTRY_EVENT_COLS, events)
    w.commit()
    for pk, last in books.values():
        RegistryBook.objects.filter(pk=pk).update(last_number=last)


def _seed_robot(w: Writer, rng: random.Random, total: int, begin: float, cutoff: float):
    call_id = w.max_id("telephony_robotcall")
    rows = []
    for started in sorted(begin + rng.random() * (cutoff - begin - HOUR) for _ in range(total)):
        call_id += 1
        rows.append(_robot_row(w, rng, call_id, started))
    w.insert("telephony_robotcall", ROBOT_COLS, rows)
    w.commit()


def _robot_row(w: Writer, rng: random.Random, call_id: int, started: float) -> tuple:
    identified = rng.random() < 0.6
    transferred = rng.random() < 0.3
    outcome = "caller_hangup" if not identified and not transferred else "completed"
    length = rng.randint(20, 400)
    return (
        call_id, f"bench-{call_id}-{int(started)}", "http", "", w.ts(started),
        w.ts(started + length), length, "ro", identified, transferred, "{}", outcome, "{}",
    )  # fmt: skip


# --------------------------------------------------------------------- day of activity


def day_of_activity(args) -> dict:
    """New cases registered today and changes on existing cases, all dated today."""
    from django.utils import timezone

    from cetatea.cases.choices import OPEN_STATUSES
    from cetatea.cases.models import Case

    rng = random.Random(args.seed + int(time.time()))
    w = Writer()
    now = timezone.now().timestamp()
    midnight = _seed_cutoff()
    start = max(midnight, now - 10 * HOUR)
    categories, areas = _catalogue()
    maker = CaseMaker(w, rng, categories, areas)
    case_id = w.max_id("cases_case")
    rows = []
    for registered in sorted(rng.uniform(start, now - 60) for _ in range(args.day_cases)):
        case_id += 1
        rows.append(maker.case(case_id, registered, now))
    w.insert("cases_case", CASE_COLS, rows)
    maker.flush()
    w.commit()
    # changes on existing cases: the open ones mostly, some closed ones reopened
    open_statuses = [str(x) for x in OPEN_STATUSES]
    open_ids = list(
        Case.objects.filter(status__in=open_statuses, id__lte=case_id - args.day_cases)
        .order_by()
        .values_list("id", "status")
    )
    n_reopen = args.day_changes // 25
    open_ = rng.sample(open_ids, min(len(open_ids), args.day_changes - n_reopen))
    closed_ids = list(
        Case.objects.filter(status__in=sorted(CLOSED), id__gt=case_id - args.day_cases - 200_000)
        .order_by()
        .values_list("id", "status")[:50_000]
    )
    reopen = rng.sample(closed_ids, min(len(closed_ids), n_reopen))
    work = open_[: args.day_changes - len(reopen)] + reopen
    updates = []  # (status, paused_since, closed_at, updated_at, id)
    events_before = maker.event_id
    for case_pk, status in work:
        at = rng.uniform(max(start, now - HOUR), now - 1)
        r = rng.random()
        paused, closed_at = None, None
        if status in CLOSED:
            to = "reopened"
        elif status == "on_hold":
            to = "in_progress"
        elif r < 0.45:
            to = rng.choice(CLOSINGS)
            closed_at = at
        elif r < 0.6:
            to, paused = "on_hold", at
        elif r < 0.8:
            to = "in_progress"
        else:
            to = None
        if to is None:
            maker.event(case_pk, "public_reply", at, public=True)
            continue
        maker.event(case_pk, "status", at, status, to, True)
        updates.append(
            (to, w.ts(paused) if paused else None, w.ts(closed_at) if closed_at else None,
             w.ts(at), case_pk)
        )  # fmt: skip
    maker.flush()
    mark = "%s" if w.pg else "?"
    sql = (
        f"UPDATE cases_case SET status = {mark}, paused_since = {mark}, closed_at = {mark}, "  # noqa: S608
        f"updated_at = {mark} WHERE id = {mark}"
    )
    w.begin()
    if w.pg:
        with w.raw.cursor() as cur:
            cur.executemany(sql, updates)
    else:
        w.raw.executemany(sql, updates)
    w.commit()
    w.fix_sequences(
        ["cases_case", "cases_caseevent", "cases_interaction", "cases_photo", "portal_feedback"]
    )
    return {
        "new_cases": args.day_cases,
        "changes": len(work),
        "change_events": maker.event_id - events_before,
    }


# ------------------------------------------------------------------------------ verify


def _indicator_snapshot() -> dict:
    from dataclasses import asdict

    from cetatea.insights import selectors

    today = selectors.today()
    periods = {
        "30d": selectors.default_period(),
        "12m": selectors.Period(today - dt.timedelta(days=364), today),
    }
    out = {}
    for name, period in periods.items():
        out[f"indicators {name}"] = asdict(selectors.indicators(period))
        for by in ("department", "channel"):
            for row in selectors.breakdown(period, by):
                out[f"{by} {row.key} {name}"] = asdict(row.indicators)
    return json.loads(json.dumps(out, default=str))


def _diff(a: dict, b: dict) -> list[str]:
    keys = sorted(set(a) | set(b))
    return [k for k in keys if a.get(k) != b.get(k)]


# --------------------------------------------------------------------------- dashboard


def _leader():
    from django.contrib.auth.models import Group, User

    from cetatea.core import roles

    user, _ = User.objects.get_or_create(username=BENCH_USER)
    user.groups.add(Group.objects.get(name=roles.LEADERSHIP))
    return user


def _timed(fn, iterations: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):  # warm up
        fn()
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        fn()
    times.sort()
    return times, len(ctx.captured_queries)


def dashboard(args) -> list[dict]:
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from cetatea.insights import selectors

    today = selectors.today()
    periods = [
        ("30 days (default)", selectors.default_period()),
        ("12 months", selectors.Period(today - dt.timedelta(days=364), today)),
    ]
    mode = args.dashboard
    url = None
    if mode in ("auto", "page"):
        try:
            url = reverse("insights:dashboard")
        except NoReverseMatch:
            if mode == "page":
                raise SystemExit("insights:dashboard does not resolve yet") from None
            print("  insights:dashboard does not resolve: measuring the selectors", flush=True)
    rows = []
    if url:
        client = Client()
        client.force_login(_leader())
        for label, period in periods:
            query = "" if label.startswith("30") else f"?start={period.start}&end={period.end}"

            def get(query=query):
                response = client.get(url + query)
                assert response.status_code == 200, (url + query, response.status_code)

            times, queries = _timed(get, args.iterations)
            rows.append(_row(f"city dashboard page {url}{query or ''}, {label}", times, queries))
            print(f"  {rows[-1]['label']}: p95 {rows[-1]['p95_ms']:.0f} ms", flush=True)

            # The first view after a refresh: nothing of this process's cache is left.
            def cold(get=get):
                selectors.forget()
                get()

            times, queries = _timed(cold, max(args.iterations // 10, 10))
            rows.append(
                _row(f"the same, first view after a refresh (cache empty), {label}", times, queries)
            )
            print(f"  {rows[-1]['label']}: p95 {rows[-1]['p95_ms']:.0f} ms", flush=True)
        return rows
    for label, period in periods:

        def page(period=period):
            selectors.indicators(period)
            for by in ("department", "channel", "area"):
                selectors.breakdown(period, by)
            selectors.trend(period)
            selectors.legal(period)
            selectors.registry_points(period)
            selectors.robot(period)
            selectors.area_map(period)
            selectors.heat(period)
            selectors.refreshed_at()

        times, queries = _timed(page, args.iterations)
        rows.append(_row(f"city dashboard selectors, {label}", times, queries))
        print(f"  {rows[-1]['label']}: p95 {rows[-1]['p95_ms']:.0f} ms", flush=True)
    return rows


def _row(label: str, times: list[float], queries: int) -> dict:
    return {
        "label": label,
        "n": len(times),
        "p50_ms": round(percentile(times, 0.5), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
        "max_ms": round(times[-1], 2),
        "queries": queries,
    }


# ------------------------------------------------------------------------------- child


def _progress(t0: float):
    last = {"at": 0.0}

    def show(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last["at"] >= 30 or done == total:
            last["at"] = now
            print(
                f"    {stage}: {done:,}/{total:,} at {now - t0:.0f} s, RSS {_rss_mb():.0f} MB",
                flush=True,
            )

    return show


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(args) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    if args.child.endswith(":seed"):
        result = seed(args)
        Path(args.out).write_text(json.dumps(result))
        return

    from cetatea.insights.models import Count, Fact
    from cetatea.insights.refresh import rebuild, refresh

    run = {"label": args.child, "vendor": connection.vendor, "seed": counts()}
    if not args.skip_rebuild:
        before = _rss_mb()
        t0 = time.perf_counter()
        result = rebuild(progress=_progress(t0), workers=os.cpu_count() or 1)
        seconds = time.perf_counter() - t0
        run["rebuild"] = {
            "seconds": round(seconds, 1),
            "peak_rss_mb": round(_rss_mb(), 1),
            "rss_before_mb": round(before, 1),
            "counts": Count.objects.count(),
            "facts": Fact.objects.count(),
            "sources": result.sources,
        }
        print(f"  rebuild: {seconds:.1f} s, peak RSS {_rss_mb():.0f} MB", flush=True)
    else:
        refresh()  # catch up with whatever came before, outside the measurement
    t0 = time.perf_counter()
    day = day_of_activity(args)
    day["insert_s"] = round(time.perf_counter() - t0, 1)
    events_total = counts()["events"]
    day["events"] = events_total - run["seed"]["events"]
    t0 = time.perf_counter()
    result = refresh()
    day["refresh_s"] = round(time.perf_counter() - t0, 2)
    day["facts_recomputed"] = sum(result.sources.values())
    day["sources"] = result.sources
    day["counts_changed"] = result.counts_changed
    run["day"] = day
    print(f"  day of activity: refresh {day['refresh_s']:.2f} s ({result.sources})", flush=True)
    if args.verify:
        after_refresh = _indicator_snapshot()
        t0 = time.perf_counter()
        rebuild()
        seconds = time.perf_counter() - t0
        diff = _diff(after_refresh, _indicator_snapshot())
        run["verify"] = {"equal": not diff, "diff": diff, "rebuild_s": round(seconds, 1)}
        print(f"  verify: {'identical' if not diff else diff[:10]}", flush=True)
    run["dashboard"] = dashboard(args)
    run["seed"]["events_after_day"] = events_total
    Path(args.out).write_text(json.dumps(run, indent=2, ensure_ascii=False, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2_000_000)
    parser.add_argument("--entries", type=int, default=150_000, help="registry entries")
    parser.add_argument("--robot-calls", type=int, default=60_000)
    parser.add_argument("--day-cases", type=int, default=3_000)
    parser.add_argument("--day-changes", type=int, default=8_000)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument(
        "--dashboard",
        choices=["auto", "page", "selectors"],
        default="auto",
        help="measure /staff/insights/ (page), the selectors it calls, or the page if it exists",
    )
    parser.add_argument("--db-path", default=str(DEFAULT_SQLITE), help="the SQLite file")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL too")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--reseed", action="store_true", help="drop the bench database first")
    parser.add_argument("--skip-rebuild", action="store_true", help="keep the counts")
    parser.add_argument("--verify", action="store_true", help="compare refresh with rebuild")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if os.environ.get("DATABASE_URL", "").startswith("postgres") and not args.child:
        args.pg = True
        args.no_sqlite = args.no_sqlite or not os.environ.get("BENCH_SQLITE_TOO")
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
