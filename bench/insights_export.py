"""Benchmark the management overview's cases export at scale (``python bench/insights_export.py``).

A child process with a throwaway database (SQLite in ``/tmp/cetatea-bench-export.sqlite3``;
with ``--db postgres`` a PostgreSQL database ``cetatea_bench_export``, created and dropped)
migrates, inserts ``--cases`` (2,000,000) minimal cases registered over the last 30 days
with ``bulk_create`` (timed), and downloads ``/staff/insights/export/?table=cases&format=csv``
through Django's test ``Client`` (middleware, session, view, selectors) as an
administrator, reading the streamed body piece by piece. It reports the time, the rows,
the bytes, and the process's anonymous resident memory (RssAnon) before and at its highest
during the download (sampled from ``/proc/self/status`` every piece), and prints one line for
docs/benchmarks.md. The database is removed afterwards unless ``--keep``.

    python bench/insights_export.py                     # 2,000,000 cases, SQLite
    python bench/insights_export.py --cases 200000      # a quick run
    python bench/insights_export.py --db all
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, spawn_child  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "insights-export-latest.json"
SQLITE_FILE = Path(tempfile.gettempdir()) / "cetatea-bench-export.sqlite3"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_NAME = "cetatea_bench_export"
BENCH_USER = "bench-export-admin"


def _pg(action: str) -> str | None:
    """Create (or drop) the throwaway PostgreSQL database; its URL, None if no server."""
    try:
        import psycopg
    except ImportError:
        return None
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}"')
            if action == "create":
                conn.execute(f'CREATE DATABASE "{PG_NAME}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL not used: {exc}".strip(), file=sys.stderr)
        return None
    return urlunsplit(urlsplit(PG_ADMIN_URL)._replace(path="/" + PG_NAME))


def run_child(label: str, env_update: dict, drop: list[str], args) -> dict:
    env_update = {**env_update, "CETATEA_LOG_LEVEL": "WARNING", "CETATEA_PLAIN_STATIC": "true"}
    drop = drop + ["CETATEA_EMAIL_BACKEND", "REDIS_URL"]
    return spawn_child(__file__, label, env_update, drop, {"cases": args.cases}, media=True)


def line(run: dict) -> str:
    return (
        f"| {run['label']} | {run['rows']:,} | {run['seconds']:.1f} | "
        f"{run['rows'] / run['seconds']:,.0f} | {run['megabytes']:.0f} | "
        f"{run['rss_before_mb']:.0f} | {run['rss_peak_mb']:.0f} | "
        f"{run['rss_peak_mb'] - run['rss_before_mb']:+.0f} |"
    )


def parent(args) -> None:
    runs = []
    wanted = {"sqlite", "postgres"} if args.db == "all" else {args.db}
    if "sqlite" in wanted:
        SQLITE_FILE.unlink(missing_ok=True)
        try:
            runs.append(
                run_child(
                    "SQLite", {"CETATEA_SQLITE_PATH": str(SQLITE_FILE)}, ["DATABASE_URL"], args
                )
            )
        finally:
            if not args.keep:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{SQLITE_FILE}{suffix}").unlink(missing_ok=True)
    if "postgres" in wanted:
        url = _pg("create")
        if url is None:
            print("PostgreSQL: no server answers; skipped.", file=sys.stderr)
        else:
            try:
                runs.append(run_child("PostgreSQL", {"DATABASE_URL": url}, [], args))
            finally:
                if not args.keep:
                    _pg("drop")
    meta = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"meta": meta, "runs": runs}, indent=2, ensure_ascii=False))
    print()
    print(
        "| database | rows | seconds | rows/s | MB of CSV | RSS before MB | RSS peak MB "
        "| growth MB |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for run in runs:
        print(line(run))
    print(f"\nResults written to {RESULTS.relative_to(ROOT)}")


# --- child ----------------------------------------------------------------------------------


def _rss_mb() -> float:
    """The process's anonymous resident memory (heap, SQLite's page cache): file pages
    SQLite maps (``mmap_size``) are the kernel's page cache, shared and reclaimable, and
    would make the figure follow the size of the database file instead."""
    with open("/proc/self/status") as handle:
        for row in handle:
            if row.startswith("RssAnon:"):
                return int(row.split()[1]) / 1024
    return 0.0


def _seed(count: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from cetatea.cases.models import Case
    from cetatea.catalog.models import Area, Category, Department

    have = Case.objects.count()
    if have >= count:
        return
    departments = [
        Department.objects.get_or_create(code=f"d{i}", defaults={"name_ro": f"Direcția {i}"})[0]
        for i in range(8)
    ]
    categories = [
        Category.objects.get_or_create(
            code=f"C{i}",
            defaults={
                "name_ro": f"Categoria ș ț {i}",
                "department": departments[i % 8],
                "target_hours": 240,
            },
        )[0]
        for i in range(40)
    ]
    square = {
        "type": "Polygon",
        "coordinates": [[[23.56, 46.06], [23.58, 46.06], [23.58, 46.08], [23.56, 46.06]]],
    }
    areas = [
        Area.objects.get_or_create(
            code=f"a{i}", defaults={"name_ro": f"Cartier {i}", "geometry": square}
        )[0]
        for i in range(10)
    ]
    from django.db import connection

    if connection.vendor == "sqlite":
        # A throwaway file: no need to wait for the disk after every batch.
        with connection.cursor() as c:
            c.execute("PRAGMA synchronous = OFF")
            c.execute("PRAGMA cache_size = -262144")
    now = timezone.now()
    span = 29 * 86400
    started = time.perf_counter()
    statuses = ["new", "in_progress", "fixed", "planned"]
    channels = ["web", "phone", "email", "counter", "open311"]
    base = min(count, 20_000)
    rows = []
    for i in range(have, base):
        category = categories[i % 40]
        registered = now - dt.timedelta(seconds=(i * 7919) % span)
        status = statuses[i % 4]
        rows.append(
            Case(
                reference=f"BX-{i + 1}",
                year=1990,
                sequence=i + 1,
                channel=channels[i % 5],
                category=category,
                department=category.department,
                area=areas[i % 10] if i % 3 else None,
                title="x",
                status=status,
                registered_at=registered,
                due_at=registered + dt.timedelta(days=10),
                closed_at=registered + dt.timedelta(days=2) if status == "fixed" else None,
            )
        )
    with transaction.atomic():
        Case.objects.bulk_create(rows, batch_size=2000)
    # Then the table doubles itself in SQL (copies with new numbers and the same times,
    # categories and statuses) until it holds ``count`` rows: minutes instead of an hour.
    table = Case._meta.db_table
    columns = [f.column for f in Case._meta.concrete_fields if f.column != "id"]
    while (have := Case.objects.count()) < count:
        offset = Case.objects.order_by("-sequence").values_list("sequence", flat=True)[0]
        select = [
            f"'BX-' || (sequence + {offset})"
            if c == "reference"
            else f"sequence + {offset}"
            if c == "sequence"
            else c
            for c in columns
        ]
        with transaction.atomic(), connection.cursor() as c:
            c.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - our own names
                f"SELECT {', '.join(select)} FROM {table} ORDER BY id LIMIT %s",
                [min(have, count - have)],
            )
        rate = (Case.objects.count() - base) / (time.perf_counter() - started)
        print(f"  seeded {Case.objects.count():,} / {count:,} cases ({rate:,.0f}/s)", flush=True)


def child(args) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from cetatea.core import roles

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    _seed(args.cases)
    seed_seconds = time.perf_counter() - started
    if connection.vendor == "sqlite":
        with connection.cursor() as c:
            c.execute("ANALYZE")
    else:
        with connection.cursor() as c:
            c.execute("ANALYZE cases_case")
    connection.close()  # the export reads with a fresh connection and default settings
    user, _created = User.objects.get_or_create(username=BENCH_USER)
    user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "ro"
    client.get("/staff/insights/export/?table=trend&format=csv")  # warm up
    rss_before = _rss_mb()
    rss_peak = rss_before
    t0 = time.perf_counter()
    response = client.get("/staff/insights/export/?table=cases&format=csv")
    assert response.status_code == 200, response.status_code
    size = lines = 0
    for piece in response.streaming_content:
        size += len(piece)
        lines += piece.count(b"\n")
        rss_peak = max(rss_peak, _rss_mb())
    seconds = time.perf_counter() - t0
    response.close()
    run = {
        "label": args.child,
        "vendor": connection.vendor,
        "cases": args.cases,
        "seed_seconds": round(seed_seconds, 1),
        "rows": lines - 2,  # the title and the header
        "seconds": round(seconds, 2),
        "megabytes": round(size / 2**20, 1),
        "rss_before_mb": round(rss_before, 1),
        "rss_peak_mb": round(rss_peak, 1),
    }
    print(f"  {line(run)}", flush=True)
    Path(args.out).write_text(json.dumps(run, indent=2, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2_000_000)
    parser.add_argument("--db", choices=["all", "sqlite", "postgres"], default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
