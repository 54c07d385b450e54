"""Benchmark the registry (issue 6): registering with 8 clerks at once, and the search.

For each database (SQLite in ``var/bench-registry.sqlite3``; PostgreSQL, database
``cetatea_bench_registry`` on the server ``bench/run.py`` uses, created if missing) a
child process with the right environment:

1. migrates, loads the catalogue and the registry setup, fills the general registry's
   book of this year up to ``--entries`` (500,000) with ``seed_registry`` (timed), and
   puts ``--others`` (20,000) entries in each other point's book and in last year's
   general book; PostgreSQL then gets ``ANALYZE`` (SQLite is measured as loaded, with no
   planner statistics, as Django leaves it);
2. **registering**: ``--clerks`` (8) processes, each with its own database connection,
   wait at a barrier and register ``--per-clerk`` (200) documents each through
   ``registry_entry_register`` into the same book: incoming petitions at the counter and
   public-information requests from the web (both open a Case through ``case_create``),
   service requests, outgoing letters. Three rounds: *single* (one clerk alone: what a
   registration costs), *burst* (no pause: every clerk submits again the moment the
   last one returns; on 2 cores this measures the machine's saturation) and *paced* (a
   random pause between registrations, mean ``--think-ms``, 1 s: still sixty times a
   real counter's pace). Reported: p50/p95/p99/max of each registration's wall time,
   its CPU time, the throughput; then the book is checked: numbers 1..last, no gap, no
   duplicate, the counter equal to the last;
3. **search**: ``selectors.entry_search`` as the clerks' list page calls it, with a mix
   of filters, ``--iterations`` (200) calls each with random inputs taken from the data
   (an exact number, a sender prefix, a common and a rare word of the summary, a word
   that is nowhere, the last month, a department and a status, a document type, the
   next pages of a point's list): p50/p95/p99, SQL statements per call and the plans
   (EXPLAIN; PostgreSQL ``EXPLAIN (ANALYZE, BUFFERS)``) of one call of each.

The machine's load average is recorded before and after each part (the benchmark
machine is shared). Each run adds ``(2 x clerks + 1) x per-clerk`` entries (and cases) to
the bench database. Results go to ``bench/results/registry-latest.json``; a Markdown
table is printed.

    python bench/registry.py                         # both databases
    python bench/registry.py --db postgres --iterations 50 --per-clerk 50
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import multiprocessing
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (  # noqa: E402
    DEFAULT_PG_ADMIN_URL,
    ROOT,
    _with_db,
    explain,
    percentile,
    postgres_url,
    spawn_child,
)

RESULTS = ROOT / "bench" / "results" / "registry-latest.json"
SQLITE_PATH = ROOT / "var" / "bench-registry.sqlite3"
PG_DB_NAME = "cetatea_bench_registry"
REGISTER_TARGET_MS = 50.0
# single: one clerk alone (what a registration costs); burst: every clerk registers again
# the moment the last one returned (the machine's saturation); paced: clerks who pause.
ROUNDS = ("single", "burst", "paced")
SEARCH_TARGET_MS = 100.0

SEARCHES = [
    # key, label
    ("number", "exact number (RG-123456/2026)"),
    ("sender", "sender prefix (pop, muresan i)"),
    ("word_common", "a common word of the summary"),
    ("word_rare", "a rare word (≤ 0.2 % of the entries)"),
    ("word_none", "a word that is nowhere"),
    ("two_words", "two words"),
    ("last_month", "last month, general registry"),
    ("dept_status", "department + status"),
    ("doc_type", "document type"),
    ("next_pages", "a point's list, pages 2–6 (cursor)"),
]


# --- parent -------------------------------------------------------------------------------


def registry_postgres_url() -> str | None:
    """The PostgreSQL database of this benchmark (not ``cetatea_bench``: other benchmarks
    fill that one), created like ``bench/run.py`` creates its own."""
    explicit = os.environ.get("BENCH_REGISTRY_DATABASE_URL")
    saved = os.environ.get("BENCH_DATABASE_URL")
    os.environ["BENCH_DATABASE_URL"] = explicit or _with_db(DEFAULT_PG_ADMIN_URL, PG_DB_NAME)
    try:
        return postgres_url()
    finally:
        if saved is None:
            os.environ.pop("BENCH_DATABASE_URL", None)
        else:
            os.environ["BENCH_DATABASE_URL"] = saved


def run_child(label: str, env_update: dict, drop: list[str], args) -> dict:
    names = ("entries", "others", "clerks", "per_clerk", "think_ms", "iterations", "seed")
    flags = ["skip_register"] if args.skip_register else []
    return spawn_child(
        __file__, label, env_update, drop, {n: getattr(args, n) for n in names}, flags, media=True
    )


def _verdict(p95: float, target: float | None) -> str:
    if target is None:
        return "—"
    return f"< {target:g} ms " + ("ok" if p95 < target else "**missed**")


def markdown(runs: list[dict]) -> str:
    lines = [
        "| database | entries in the book | what | p50 ms | p95 ms | p99 ms | max ms "
        "| SQL/call | p95 target |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    what = {
        "single": "register, 1 clerk alone",
        "burst": "register, {n} clerks back to back",
        "paced": "register, {n} clerks pausing (mean {think} ms)",
    }
    for run in runs:
        # The target is PostgreSQL's, with clerks who pause between documents; a burst
        # (8 processes registering back to back) measures the saturation of the machine.
        postgres = run["vendor"] == "postgresql"
        for key in ROUNDS:
            r = run["register"].get(key)
            if r is None:
                continue
            label = what[key].format(n=run["clerks"], think=r["think_ms"])
            target = REGISTER_TARGET_MS if key == "paced" and postgres else None
            lines.append(
                f"| {run['label']} | {run['book_entries']:,} | {label} ({r['per_second']:.0f}/s) "
                f"| {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | "
                f"{r['max_ms']:.1f} | {r['queries']} | {_verdict(r['p95_ms'], target)} |"
            )
        for key, label in SEARCHES:
            r = run["search"][key]
            queries = (
                str(r["queries_min"])
                if r["queries_min"] == r["queries_max"]
                else f"{r['queries_min']}–{r['queries_max']}"
            )
            lines.append(
                f"| {run['label']} | {run['book_entries']:,} | search: {label} | "
                f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | "
                f"{queries} | {_verdict(r['p95_ms'], SEARCH_TARGET_MS)} |"
            )
    return "\n".join(lines)


def parent(args) -> None:
    runs: list[dict] = []
    wanted = {"sqlite", "postgres"} if args.db == "all" else {args.db}
    if "sqlite" in wanted:
        path = Path(args.sqlite_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        runs.append(run_child("SQLite", {"CETATEA_SQLITE_PATH": str(path)}, ["DATABASE_URL"], args))
    if "postgres" in wanted:
        url = registry_postgres_url()
        if url is None:
            print("PostgreSQL: no server answers; skipped.", file=sys.stderr)
        else:
            runs.append(run_child("PostgreSQL", {"DATABASE_URL": url}, [], args))
    meta = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "iterations": args.iterations,
        "clerks": args.clerks,
        "per_clerk": args.per_clerk,
        "think_ms": args.think_ms,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if args.db != "all" and RESULTS.exists():  # keep the other database's last run
        measured = {r["label"] for r in runs}
        previous = json.loads(RESULTS.read_text()).get("runs", [])
        runs = [r for r in previous if r["label"] not in measured] + runs
    RESULTS.write_text(json.dumps({"meta": meta, "runs": runs}, indent=2, ensure_ascii=False))
    print()
    print(markdown(runs))
    for run in runs:
        print(
            f"\n{run['label']}: load average {run['load']['start']} at the start, "
            f"{run['load']['after_register']} after registering, {run['load']['end']} at the end"
        )
    print(f"\nResults written to {RESULTS.relative_to(ROOT)}")


# --- child: data --------------------------------------------------------------------------


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def ensure_entries(args) -> dict:
    """Fill the books (timed); return what the general registry's book holds."""
    from django.core.management import call_command
    from django.db.models import Max
    from django.utils import timezone

    from cetatea.core.workdays import local_date
    from cetatea.registry.models import RegistryBook

    year = local_date(timezone.now()).year
    seeded = {}
    plan = [("rg", year, args.entries), ("dv", year, args.others), ("das", year, args.others)]
    plan.append(("rg", year - 1, args.others))
    for code, book_year, want in plan:
        have = (
            RegistryBook.objects.filter(point__code=code, year=book_year).aggregate(
                n=Max("last_number")
            )["n"]
            or 0
        )
        if have >= want:
            continue
        started = time.perf_counter()
        call_command(
            "seed_registry",
            entries=want - have,
            point=code,
            year=book_year,
            seed=args.seed,
            cases=code == "rg" and book_year == year,
            stdout=io.StringIO() if want - have < 50_000 else sys.stdout,
        )
        seeded[f"{code}/{book_year}"] = {
            "entries": want - have,
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(f"seeded {want - have:,} entries into {code}/{book_year}", flush=True)
    book = RegistryBook.objects.get(point__code="rg", year=year)
    return {"book": book, "seeded": seeded}


# --- child: registering -------------------------------------------------------------------


def _clerk(k: int, args, barrier, queue, round_name: str) -> None:
    """One clerk's process: its own connection, then ``per_clerk`` registrations."""
    from django.contrib.auth import get_user_model
    from django.db import connection, connections
    from django.test.utils import CaptureQueriesContext

    from cetatea.registry.choices import Direction, RegistryChannel, SenderKind
    from cetatea.registry.models import DocumentType, RegistryPoint
    from cetatea.registry.services import registry_entry_register

    connections.close_all()  # never the parent's connection
    rng = random.Random(f"{args.seed}-{round_name}-{k}")
    point = RegistryPoint.objects.get(code="rg")
    types = {t.code: t for t in DocumentType.objects.all()}
    clerk, _created = get_user_model().objects.get_or_create(username=f"bench-registry-{k}")
    streets = ["Calea Moților", "Strada Horea", "Bulevardul Transilvaniei", "Strada Cloșca"]
    names = ["Popescu Ion", "Moldovan Maria", "Mureșan Vasile", "Ștefănescu Ana", "Pop Ioan"]

    def one(i: int):
        roll = rng.random()
        common = {
            "point": point,
            "actor": clerk,
            "submit_token": f"bench-{round_name}-{os.getpid()}-{k}-{i}-{rng.random()}",
        }
        if roll < 0.5:
            street = rng.choice(streets)
            return registry_entry_register(
                doc_type=types["petitie"],
                summary=f"Sesizare: trotuar surpat pe {street} nr. {rng.randint(1, 99)}",
                channel=RegistryChannel.COUNTER,
                sender_name=rng.choice(names),
                sender_address=f"{street} nr. {rng.randint(1, 99)}, Alba Iulia",
                **common,
            )
        if roll < 0.6:
            return registry_entry_register(
                doc_type=types["info-544"],
                summary="Solicit lista contractelor de reparații a străzilor din 2025",
                channel=RegistryChannel.WEB,
                sender_name=rng.choice(names),
                sender_email="bench@example.org",
                **common,
            )
        if roll < 0.8:
            return registry_entry_register(
                doc_type=types["cerere"],
                summary="Cerere certificat de atestare fiscală pentru vânzare",
                sender_name=rng.choice(names),
                sender_address="Strada Horea nr. 3, Alba Iulia",
                **common,
            )
        return registry_entry_register(
            doc_type=types["corespondenta"],
            summary="Adresă către Instituția Prefectului privind drumurile județene",
            direction=Direction.OUTGOING,
            channel=RegistryChannel.POST,
            sender_kind=SenderKind.INSTITUTION,
            addressee="Instituția Prefectului - Județul Alba",
            **common,
        )

    one(-1)  # warm up this process (imports, connection) before the barrier
    barrier.wait()
    timings, cpu, queries, numbers = [], [], [], []
    for i in range(args.per_clerk):
        if round_name == "paced" and args.think_ms:
            time.sleep(rng.expovariate(1000 / args.think_ms))
        capture = CaptureQueriesContext(connection) if i < 5 else None
        if capture is not None:
            capture.__enter__()
        t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        entry = one(i)
        timings.append((time.perf_counter_ns() - t0) / 1e6)
        cpu.append((time.thread_time_ns() - c0) / 1e6)
        if capture is not None:
            capture.__exit__(None, None, None)
            queries.append(len(capture.captured_queries))
        numbers.append(entry.number)
    queue.put({"timings": timings, "cpu": cpu, "queries": queries, "numbers": numbers})
    connections.close_all()


def register_round(args, round_name: str) -> dict:
    from django.db import connections

    connections.close_all()  # the children are forked: no shared connection
    clerks = 1 if round_name == "single" else args.clerks
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(clerks + 1)
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_clerk, args=(k, args, barrier, queue, round_name))
        for k in range(clerks)
    ]
    for p in procs:
        p.start()
    barrier.wait()  # every clerk is warmed up: go
    started = time.perf_counter()
    results = [queue.get() for _ in procs]
    wall = time.perf_counter() - started
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"a clerk process failed (exit {p.exitcode})")
    timings = sorted(t for r in results for t in r["timings"])
    cpu = sorted(t for r in results for t in r["cpu"])
    queries = sorted(q for r in results for q in r["queries"])
    numbers = sorted(n for r in results for n in r["numbers"])
    out = {
        "registrations": len(timings),
        "seconds": round(wall, 2),
        "per_second": round(len(timings) / wall, 1),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
        "p99_ms": round(percentile(timings, 0.99), 2),
        "max_ms": round(timings[-1], 2),
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "cpu_p95_ms": round(percentile(cpu, 0.95), 2),
        "queries": f"{queries[0]}–{queries[-1]}" if queries[0] != queries[-1] else queries[0],
        "numbers_unique": len(set(numbers)) == len(numbers),
        "numbers_consecutive": numbers == list(range(numbers[0], numbers[0] + len(numbers))),
        "think_ms": args.think_ms if round_name == "paced" else 0,
        "clerks": clerks,
    }
    print(
        f"register {round_name:5} {out['registrations']} in {wall:.1f} s "
        f"({out['per_second']}/s)  p50 {out['p50_ms']:.1f}  p95 {out['p95_ms']:.1f}  "
        f"p99 {out['p99_ms']:.1f}  max {out['max_ms']:.1f} ms  CPU p95 {out['cpu_p95_ms']:.1f}",
        flush=True,
    )
    return out


def check_book(book) -> dict:
    """Numbers 1..last, no gap, no duplicate; the counter equal to the last number."""
    from django.db.models import Count, Max, Min

    from cetatea.registry.models import Entry, RegistryBook

    book = RegistryBook.objects.get(pk=book.pk)
    agg = Entry.objects.filter(book=book).aggregate(
        n=Count("id"), lo=Min("number"), hi=Max("number"), distinct=Count("number", distinct=True)
    )
    ok = agg["n"] == agg["distinct"] == agg["hi"] == book.last_number and agg["lo"] == 1
    return {**agg, "last_number": book.last_number, "gap_free_and_unique": ok}


# --- child: search ------------------------------------------------------------------------


def _count_word(word: str, cap: int) -> int:
    from django.db import connection

    from cetatea.registry.models import Entry
    from cetatea.registry.search import FTS_TABLE

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT rowid FROM {FTS_TABLE} "  # noqa: S608
                "WHERE summary_key LIKE %s LIMIT %s)",
                [f"%{word}%", cap],
            )
            return cursor.fetchone()[0]
    return Entry.objects.filter(summary_key__contains=word).order_by()[:cap].count()


def search_inputs(rng: random.Random, n: int, book) -> dict[str, list]:
    """Random inputs of each kind, from what the database holds."""
    from django.utils import timezone

    from cetatea.catalog.models import Department
    from cetatea.core.text import fold
    from cetatea.core.workdays import local_date
    from cetatea.people.management.commands.seed_demo import LAST_NAMES
    from cetatea.registry.management.commands.seed_registry import TOPICS
    from cetatea.registry.models import DocumentType, RegistryPoint
    from cetatea.registry.selectors import EntryFilters

    points = {p.code: p.pk for p in RegistryPoint.objects.all()}
    rg = points["rg"]
    total = book.last_number
    surnames = [fold(name) for name, _w in sorted(LAST_NAMES, key=lambda p: -p[1])[:30]]
    # Words of the summaries: the topics' words (a Zipf mix) and the streets' names.
    candidates = sorted(
        {w for t in TOPICS for w in fold(t).split() if len(w) >= 5}
        | {"cerere", "certificat", "strada", "sesizare", "privind", "solicit"}
    )
    streets = json.loads(
        (ROOT / "cetatea" / "catalog" / "data" / "alba_iulia_streets.json").read_text()
    )["streets"]
    candidates += sorted({w for s in streets for w in fold(s["name"]).split() if len(w) >= 6})
    # Common: in 2 % of the book or more; rare: in 0.2 % or less (1,000 of 500,000).
    counts = {w: _count_word(w, max(total // 20, 2000)) for w in candidates}
    common = [w for w, c in counts.items() if c >= total // 50]
    rare = [w for w, c in counts.items() if 1 <= c <= max(total // 500, 50)]
    if not common or not rare:
        raise SystemExit(f"no common or rare words found ({len(common)}, {len(rare)})")
    print(
        f"search words: {len(common)} common, {len(rare)} rare "
        f"({min(counts[w] for w in rare)}–{max(counts[w] for w in rare)} entries each)",
        flush=True,
    )
    departments = list(Department.objects.values_list("pk", flat=True))
    statuses = ["open"] * 4 + ["answered"] * 2 + ["done", "forwarded", "refused", "filed"]
    types = list(DocumentType.objects.values_list("pk", flat=True))
    today = local_date(timezone.now())

    def cursors() -> list:
        """A point's list: the cursors of its pages 2..6 (each call reads one page)."""
        from cetatea.registry.selectors import entry_search

        out, cursor = [], ""
        point = rng.choice([rg, rg, points["dv"]])
        for _page in range(6):
            page = entry_search(EntryFilters(point_id=point), cursor=cursor)
            cursor = page.next_cursor
            if not cursor:
                break
            out.append((point, cursor))
        return out[:5]

    pages: list = []
    while len(pages) < n:
        pages += cursors()
    existing = [rng.randint(1, total) for _ in range(n)]  # the book has no gap

    def prefix(name: str) -> str:
        return name[: rng.randint(3, len(name))] if len(name) > 3 else name

    return {
        "number": [EntryFilters(number=f"RG-{x}/{book.year}") for x in existing],
        "sender": [
            EntryFilters(
                sender=prefix(rng.choice(surnames))
                if rng.random() < 0.7
                else f"{rng.choice(surnames)} {rng.choice('aeimv')}",
                point_id=rg if rng.random() < 0.5 else None,
            )
            for _ in range(n)
        ],
        "word_common": [
            EntryFilters(text=rng.choice(common), point_id=rg if rng.random() < 0.5 else None)
            for _ in range(n)
        ],
        "word_rare": [EntryFilters(text=rng.choice(rare)) for _ in range(n)],
        "word_none": [
            EntryFilters(text="".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(7)))
            for _ in range(n)
        ],
        "two_words": [
            EntryFilters(text=f"{rng.choice(common)} {rng.choice(common + rare)}") for _ in range(n)
        ],
        "last_month": [
            EntryFilters(date_from=today - dt.timedelta(days=30), date_to=today, point_id=rg)
            for _ in range(n)
        ],
        "dept_status": [
            EntryFilters(department_id=rng.choice(departments), status=rng.choice(statuses))
            for _ in range(n)
        ],
        "doc_type": [EntryFilters(doc_type_id=rng.choice(types)) for _ in range(n)],
        "next_pages": [
            (EntryFilters(point_id=point), cursor) for point, cursor in rng.sample(pages, n)
        ],
    }


def measure_search(inputs: dict[str, list], label: str) -> tuple[dict, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cetatea.registry.selectors import entry_search

    def call(item):
        if isinstance(item, tuple):
            return entry_search(item[0], cursor=item[1])
        return entry_search(item)

    results, plans = {}, {}
    for key, _label in SEARCHES:
        items = inputs[key]
        for item in items[:10]:  # warm up
            call(item)
        timings, counts, hits = [], [], 0
        for i, item in enumerate(items):
            if i < 20:
                with CaptureQueriesContext(connection) as ctx:
                    call(item)
                counts.append(len(ctx.captured_queries))
                if i == 0:
                    plans[key] = [
                        {"sql": q["sql"], "plan": explain(q["sql"])}
                        for q in ctx.captured_queries
                        if "registry_entry" in q["sql"]
                    ]
            t0 = time.perf_counter_ns()
            page = call(item)
            timings.append((time.perf_counter_ns() - t0) / 1e6)
            hits += len(page.entries)
        timings.sort()
        p95 = percentile(timings, 0.95)
        results[key] = {
            "p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(p95, 2),
            "p99_ms": round(percentile(timings, 0.99), 2),
            "max_ms": round(timings[-1], 2),
            "queries_min": min(counts),
            "queries_max": max(counts),
            "rows_per_call": round(hits / len(items), 1),
            "calls": len(items),
            "target_ms": SEARCH_TARGET_MS,
            "ok": p95 < SEARCH_TARGET_MS,
        }
        r = results[key]
        print(
            f"{label:10} search {key:12} p50 {r['p50_ms']:7.2f}  p95 {p95:7.2f}  "
            f"p99 {r['p99_ms']:7.2f}  max {r['max_ms']:7.2f} ms  SQL {min(counts)}-{max(counts)}"
            f"  rows {r['rows_per_call']}",
            flush=True,
        )
    return results, plans


# --- child --------------------------------------------------------------------------------


def child(args) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cetatea.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from cetatea.registry.models import Entry

    loads = {"start": load()}
    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_catalog", stdout=io.StringIO())
    call_command("load_registry", stdout=io.StringIO())
    data = ensure_entries(args)
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute("select sqlite_version()" if vendor == "sqlite" else "show server_version")
        version = cursor.fetchone()[0]
        if vendor == "postgresql":
            cursor.execute("ANALYZE")
    book = data["book"]
    before = check_book(book)
    print(f"book {book}: {before}", flush=True)

    register = {}
    for round_name in ROUNDS:
        if not args.skip_register:
            register[round_name] = register_round(args, round_name)
    connection.close()
    after = check_book(book)
    print(f"book {book} after registering: {after}", flush=True)
    if not after["gap_free_and_unique"]:
        raise SystemExit("the book's numbers have a gap or a duplicate")
    loads["after_register"] = load()

    rng = random.Random(args.seed)
    book.refresh_from_db()
    inputs = search_inputs(rng, args.iterations, book)
    search, plans = measure_search(inputs, args.child)
    loads["end"] = load()
    run = {
        "label": args.child,
        "vendor": vendor,
        "version": version,
        "book": str(book),
        "book_entries": book.last_number,
        "entries": Entry.objects.count(),
        "seeded": data["seeded"],
        "clerks": args.clerks,
        "register": register,
        "book_check": after,
        "search": search,
        "plans": plans,
        "load": loads,
    }
    Path(args.out).write_text(json.dumps(run, indent=2, ensure_ascii=False, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=500_000, help="in the general book")
    parser.add_argument("--others", type=int, default=20_000, help="in each other book")
    parser.add_argument("--clerks", type=int, default=8)
    parser.add_argument("--per-clerk", type=int, default=200)
    parser.add_argument("--think-ms", type=int, default=1000, help="mean pause, paced round")
    parser.add_argument(
        "--skip-register", action="store_true", help="measure the search only (development)"
    )
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--db", choices=["all", "sqlite", "postgres"], default="all")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sqlite-path", default=str(SQLITE_PATH), help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
