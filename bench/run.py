"""Benchmark the citizen lookup paths at scale (``make bench``).

For each database (SQLite in ``var/bench.sqlite3``; PostgreSQL when ``BENCH_DATABASE_URL``
is set or ``postgres://postgres@127.0.0.1:5432/test`` answers, using a database named
``cetatea_bench``) this script runs a child process with the right environment, which:

1. migrates, loads the catalogue and, if the database holds fewer than ``--persons``
   persons, tops it up with ``seed_scale`` (timed);
2. calls ``cetatea.people.selectors.person_search`` the way the operator's screen does,
   ``--iterations`` times per kind of query with random existing inputs: a phone number
   typed in national format, a CNP (exact match through the keyed hash), and name
   searches ("popescu", "popescu ion", "ion popescu", spellings with ş/ș ţ/ț);
3. reports median, p95 and p99 latency in ms and the SQL queries per call, and the query
   plans (EXPLAIN) of the statements one call of each kind ran.

SQLite is measured twice: as loaded (no planner statistics, as on a fresh install) and
after ``ANALYZE``. PostgreSQL is measured after ``ANALYZE``.

Results go to ``bench/results/latest.json``; a Markdown table is printed.

    python bench/run.py                       # 1,000,000 persons, both databases
    python bench/run.py --persons 20000       # a quick run
    python bench/run.py --db sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "latest.json"
SQLITE_PATH = ROOT / "var" / "bench.sqlite3"
DEFAULT_PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test"
BENCH_DB_NAME = "cetatea_bench"

TARGETS_MS = {"lookup": 5.0, "name": 50.0}
MODES = [
    # key, label, target group
    ("phone", "phone, national format (0722 123 456)", "lookup"),
    ("cnp", "CNP (keyed hash)", "lookup"),
    ("last", "name: last (popescu)", "name"),
    ("last_first", "name: last first (popescu ion)", "name"),
    ("first_last", "name: first last (ion popescu)", "name"),
    ("diacritics", "name: ş/ș ţ/ț spellings (Ştefănescu)", "name"),
]


# --- parent -------------------------------------------------------------------------------


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def postgres_url() -> str | None:
    """URL of the PostgreSQL bench database, created if needed; None if no server answers."""
    try:
        import psycopg
    except ImportError:
        return None
    explicit = os.environ.get("BENCH_DATABASE_URL")
    target = explicit or _with_db(DEFAULT_PG_ADMIN_URL, BENCH_DB_NAME)
    admin = _with_db(target, "postgres") if explicit else DEFAULT_PG_ADMIN_URL
    name = urlsplit(target).path.lstrip("/")
    try:
        with psycopg.connect(target, connect_timeout=3):
            return target
    except psycopg.OperationalError:
        pass
    try:
        with psycopg.connect(admin, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL not used: {exc}".strip(), file=sys.stderr)
        return None
    return target


def spawn_child(
    script: str,
    label: str,
    env_update: dict,
    drop: list[str],
    options: dict,
    flags: list[str] = (),
    *,
    media: bool = False,
):
    """Run ``script --child label`` in a process of its own (the settings read the
    database from the environment at import) and return the JSON it writes.

    ``options`` become ``--name value``, ``flags`` ``--name``; ``media`` gives the child
    media folders of its own under ``var/`` (removed afterwards), e-mail in memory and
    quiet logs.
    """
    env = dict(os.environ)
    for key in drop:
        env.pop(key, None)
    env.update(env_update)
    env["DJANGO_SETTINGS_MODULE"] = "cetatea.settings"
    folder = None
    if media:
        folder = Path(tempfile.mkdtemp(prefix="bench-media-", dir=ROOT / "var"))
        env.update(
            {
                "CETATEA_MEDIA_ROOT": str(folder / "public"),
                "CETATEA_PRIVATE_MEDIA_ROOT": str(folder / "private"),
                "CETATEA_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
                "CETATEA_LOG_LEVEL": "WARNING",
            }
        )
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    cmd = [sys.executable, str(Path(script).resolve()), "--child", label, "--out", str(out)]
    for name, value in options.items():
        if value is not None:
            cmd += [f"--{name.replace('_', '-')}", str(value)]
    cmd += [f"--{name.replace('_', '-')}" for name in flags]
    print(f"\n=== {label}", flush=True)
    try:
        proc = subprocess.run(cmd, env=env, cwd=ROOT, check=False)  # noqa: S603
        if proc.returncode != 0:
            raise SystemExit(f"{label}: benchmark failed (exit {proc.returncode})")
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def ensure_interactions(target: int, batch: int = 10_000) -> int:
    """In a child: top the interactions up to ``target`` with ``seed_scale --interactions``
    (timed, printed); return how many there are."""
    from django.core.management import call_command

    from cetatea.cases.models import Interaction

    have = Interaction.objects.count()
    if have < target:
        started = time.perf_counter()
        call_command("seed_scale", interactions=target - have, batch=batch)
        print(f"seeded {target - have:,} interactions in {time.perf_counter() - started:.0f} s")
        have = Interaction.objects.count()
    return have


def run_child(label: str, env_update: dict, drop: list[str], args) -> list[dict]:
    names = ("persons", "cases", "iterations", "batch", "workers", "seed")
    return spawn_child(__file__, label, env_update, drop, {n: getattr(args, n) for n in names})


def markdown(runs: list[dict]) -> str:
    lines = [
        "| database | persons | query | median ms | p95 ms | p99 ms | SQL/call | p95 target |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in runs:
        for key, label, _group in MODES:
            r = run["results"].get(key)
            if not r:
                continue
            queries = (
                str(r["queries_min"])
                if r["queries_min"] == r["queries_max"]
                else f"{r['queries_min']}–{r['queries_max']}"
            )
            verdict = "ok" if r["ok"] else "**missed**"
            lines.append(
                f"| {run['label']} | {run['persons']:,} | {label} | {r['median_ms']:.2f} | "
                f"{r['p95_ms']:.2f} | {r['p99_ms']:.2f} | {queries} | "
                f"< {r['target_ms']:g} ms {verdict} |"
            )
    return "\n".join(lines)


def parent(args) -> None:
    runs: list[dict] = []
    wanted = {"sqlite", "postgres"} if args.db == "all" else {args.db}
    if "sqlite" in wanted:
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        runs += run_child(
            "SQLite", {"CETATEA_SQLITE_PATH": str(SQLITE_PATH)}, ["DATABASE_URL"], args
        )
    if "postgres" in wanted:
        url = postgres_url()
        if url is None:
            print("PostgreSQL: no server answers; skipped.", file=sys.stderr)
        else:
            runs += run_child("PostgreSQL", {"DATABASE_URL": url}, [], args)
    meta = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "iterations": args.iterations,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"meta": meta, "runs": runs}, indent=2, ensure_ascii=False))
    print()
    print(markdown(runs))
    print(f"\nResults written to {RESULTS.relative_to(ROOT)}")


# --- child ----------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    index = max(0, math.ceil(q * len(sorted_values)) - 1)
    return sorted_values[index]


def sample_inputs(rng: random.Random, iterations: int) -> dict[str, list[str]]:
    """Random queries built from data that is in the database."""
    import phonenumbers
    from django.db.models import Max, Min

    from cetatea.core import crypto
    from cetatea.people.management.commands.seed_demo import (
        FEMALE_FIRST_NAMES,
        LAST_NAMES,
        MALE_FIRST_NAMES,
    )
    from cetatea.people.models import ContactPoint, Person

    bounds = Person.objects.aggregate(lo=Min("id"), hi=Max("id"))
    lo, hi = bounds["lo"], bounds["hi"]

    def random_rows(queryset, fields, want):
        found: list = []
        while len(found) < want:
            ids = [rng.randint(lo, hi) for _ in range(want * 2)]
            found += list(queryset.filter(person_id__in=ids).values_list(*fields)[: want * 2])
        rng.shuffle(found)
        return found[:want]

    phones = [
        v
        for (v,) in random_rows(
            ContactPoint.objects.filter(kind="phone", value__startswith="+407"),
            ["value"],
            iterations,
        )
    ]
    national = [
        phonenumbers.format_number(
            phonenumbers.parse(v, None), phonenumbers.PhoneNumberFormat.NATIONAL
        )
        for v in phones
    ]
    tokens = []
    while len(tokens) < iterations:
        ids = [rng.randint(lo, hi) for _ in range(iterations * 2)]
        tokens += list(
            Person.objects.filter(pk__in=ids, national_id_kind="cnp")
            .order_by()
            .values_list("national_id_encrypted", flat=True)
        )
    cnps = [crypto.decrypt(t) for t in rng.sample(tokens, iterations)]

    # Common names, as the generator weights them: the top of each list.
    def top(pairs, n):
        return [name for name, _w in sorted(pairs, key=lambda p: -p[1])[:n]]

    lasts = top(LAST_NAMES, 25)
    firsts = top(MALE_FIRST_NAMES, 12) + top(FEMALE_FIRST_NAMES, 12)
    diacritic_lasts = [n for n, _w in LAST_NAMES if any(c in n for c in "șțşţăâî")]
    spellings = []
    for name in diacritic_lasts:
        spellings += [
            name,
            name.replace("ș", "ş").replace("ț", "ţ"),  # legacy cedilla
            name.replace("ş", "ș").replace("ţ", "ț"),  # comma below
        ]
    return {
        "phone": national,
        "cnp": cnps,
        "last": [rng.choice(lasts).lower() for _ in range(iterations)],
        "last_first": [
            f"{rng.choice(lasts)} {rng.choice(firsts)}".lower() for _ in range(iterations)
        ],
        "first_last": [
            f"{rng.choice(firsts)} {rng.choice(lasts)}".lower() for _ in range(iterations)
        ],
        "diacritics": [rng.choice(spellings) for _ in range(iterations)],
    }


def explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            return [" ".join(str(c) for c in row[1:]) for row in cursor.fetchall()]
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return [row[0] for row in cursor.fetchall()]


def measure(inputs: dict[str, list[str]], label: str) -> tuple[dict, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cetatea.people.selectors import person_search

    results: dict = {}
    plans: dict = {}
    for key, _label, group in MODES:
        queries = inputs[key]
        for q in queries[:20]:  # warm up caches and connections
            person_search(q)
        timings = []
        hits = 0
        for q in queries:
            t0 = time.perf_counter_ns()
            result = person_search(q)
            timings.append((time.perf_counter_ns() - t0) / 1e6)
            hits += len(result.persons)
            if result.error:
                raise SystemExit(f"{key}: {q!r} -> {result.error}")
        counts = []
        for q in queries[:20]:
            with CaptureQueriesContext(connection) as ctx:
                person_search(q)
            counts.append(len(ctx.captured_queries))
        with CaptureQueriesContext(connection) as ctx:
            person_search(queries[0])
        plans[key] = {
            "query": queries[0],
            "statements": [
                {"sql": item["sql"], "plan": explain(item["sql"])} for item in ctx.captured_queries
            ],
        }
        timings.sort()
        target = TARGETS_MS[group]
        p95 = percentile(timings, 0.95)
        results[key] = {
            "median_ms": round(statistics.median(timings), 3),
            "p95_ms": round(p95, 3),
            "p99_ms": round(percentile(timings, 0.99), 3),
            "mean_ms": round(statistics.fmean(timings), 3),
            "max_ms": round(timings[-1], 3),
            "queries_min": min(counts),
            "queries_max": max(counts),
            "hits_per_call": round(hits / len(queries), 2),
            "calls": len(queries),
            "target_ms": target,
            "ok": p95 < target,
        }
        print(
            f"{label:28} {key:11} median {results[key]['median_ms']:8.2f} ms  "
            f"p95 {p95:8.2f} ms  p99 {results[key]['p99_ms']:8.2f} ms  "
            f"SQL {min(counts)}-{max(counts)}  hits {results[key]['hits_per_call']}",
            flush=True,
        )
    return results, plans


def child(args) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cetatea.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from cetatea.cases.models import Case
    from cetatea.people.models import Person

    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_catalog", stdout=io.StringIO())
    have_persons = Person.objects.count()
    have_cases = Case.objects.count()
    seed_seconds = None
    seeded = {"persons": 0, "cases": 0}
    if have_persons < args.persons:
        seeded = {
            "persons": args.persons - have_persons,
            "cases": max(0, args.cases - have_cases),
        }
        print(
            f"seeding {seeded['persons']:,} persons and {seeded['cases']:,} cases "
            f"({have_persons:,} persons already there)",
            flush=True,
        )
        t0 = time.perf_counter()
        call_command(
            "seed_scale",
            persons=seeded["persons"],
            cases=seeded["cases"],
            batch=args.batch,
            workers=args.workers,
            seed=args.seed,
        )
        seed_seconds = round(time.perf_counter() - t0, 1)
    else:
        print(f"{have_persons:,} persons already there: not seeding", flush=True)
    persons = Person.objects.count()
    cases = Case.objects.count()
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute("select sqlite_version()" if vendor == "sqlite" else "show server_version")
        version = cursor.fetchone()[0]

    rng = random.Random(args.seed)
    inputs = sample_inputs(rng, args.iterations)
    base = {
        "vendor": vendor,
        "version": version,
        "persons": persons,
        "cases": cases,
        "seeded": seeded,
        "seed_seconds": seed_seconds,
    }
    runs = []
    if vendor == "sqlite":
        # As on a fresh install: no planner statistics (Django never runs ANALYZE).
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cursor.fetchone():
                cursor.execute("DELETE FROM sqlite_stat1")
                cursor.execute("ANALYZE sqlite_schema")  # reload (now empty) statistics
        connection.close()
        label = f"{args.child} (no ANALYZE)"
        results, plans = measure(inputs, label)
        runs.append({**base, "label": label, "analyzed": False, "results": results, "plans": plans})
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    analyze_seconds = round(time.perf_counter() - t0, 1)
    connection.close()
    label = f"{args.child} (ANALYZE)" if vendor == "sqlite" else args.child
    results, plans = measure(inputs, label)
    runs.append(
        {
            **base,
            "label": label,
            "analyzed": True,
            "analyze_seconds": analyze_seconds,
            "results": results,
            "plans": plans,
        }
    )
    Path(args.out).write_text(json.dumps(runs, indent=2, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=None, help="default: persons / 10")
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--db", choices=["all", "sqlite", "postgres"], default="all")
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cases is None:
        args.cases = args.persons // 10
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
