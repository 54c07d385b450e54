"""Benchmark the staff console's department queue at scale (``python bench/console_queue.py``).

For each database (SQLite in ``var/bench.sqlite3``; PostgreSQL ``cetatea_bench``, found
as in ``bench/run.py``) a child process with the right environment migrates (the console
app's tables), takes the cases already there (``bench/run.py`` / ``bench/map.py`` seed
them), tops the interactions up to ``--interactions`` (5,000,000)
with ``seed_scale``, makes a department-staff account in the department with
the most cases, and requests ``/staff/queue/`` through Django's test ``Client`` (the
whole stack: middleware, session, view, selectors, template) ``--iterations`` times per
row: the default queue (open cases, soonest due first), overdue, due soon, unassigned,
one category, sorted by registration and by priority, the next page (a keyset cursor),
and every department. It reports median, p95, p99, the SQL statements per request and
the query plans of the statements of one request of each row.

SQLite is measured as loaded (no ANALYZE, as Django leaves it) and after ``ANALYZE``.
Results go to ``bench/results/queue-latest.json``; a Markdown table is printed.

    python bench/console_queue.py                      # both databases
    python bench/console_queue.py --db sqlite --iterations 100
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import platform
import re
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (
    ROOT,
    SQLITE_PATH,
    ensure_interactions,
    explain,
    percentile,
    postgres_url,
    spawn_child,
)  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "queue-latest.json"
TARGET_MS = 100.0
BENCH_USER = "bench-queue-staff"

# key, label, query string (the category and cursor are filled in by the child)
ROWS = [
    ("default", "department queue, open, due first", ""),
    ("overdue", "overdue", "due=overdue"),
    ("soon", "due in 24 h", "due=soon"),
    ("unassigned", "unassigned", "assigned=none"),
    ("category", "one category", "category={category}"),
    ("registered", "sorted by registration", "sort=registered"),
    ("priority", "sorted by priority", "sort=priority"),
    ("page2", "next page (keyset cursor)", "cursor={cursor}"),
    ("all", "every department", "department="),
]


def run_child(label: str, env_update: dict, drop: list[str], args) -> list[dict]:
    # Pages render without a collectstatic manifest (as in the tests): the settings pick
    # plain static files before anything reads them.
    env_update = {**env_update, "CETATEA_LOG_LEVEL": "WARNING", "CETATEA_PLAIN_STATIC": "true"}
    drop = drop + ["CETATEA_EMAIL_BACKEND", "REDIS_URL"]
    options = {"iterations": args.iterations, "interactions": args.interactions}
    return spawn_child(__file__, label, env_update, drop, options)


def markdown(runs: list[dict]) -> str:
    lines = []
    for run in runs:
        lines.append(
            f"\n**{run['label']}** — {run['cases']:,} cases, "
            f"{run.get('interactions', 0):,} interactions, department "
            f"“{run['department']}” ({run['department_open']:,} open cases)\n"
        )
        lines.append("| queue | median ms | p95 ms | p99 ms | SQL | rows | p95 < 100 ms |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
        for res in run["results"].values():
            ok = "yes" if res["p95_ms"] < TARGET_MS else "**no**"
            lines.append(
                f"| {res['label']} | {res['median_ms']:.1f} | {res['p95_ms']:.1f} | "
                f"{res['p99_ms']:.1f} | {res['queries']} | {res['rows']} | {ok} |"
            )
    return "\n".join(lines)


def parent(args) -> None:
    runs: list[dict] = []
    wanted = {"sqlite", "postgres"} if args.db == "all" else {args.db}
    if "sqlite" in wanted:
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


def _setup():
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db.models import Count

    from cetatea.cases.choices import OPEN_STATUSES
    from cetatea.cases.models import Case
    from cetatea.catalog.models import Department, StaffProfile
    from cetatea.core import roles

    call_command("migrate", interactive=False, verbosity=0)
    # The busiest department (one grouped scan, done once, outside the measurement).
    top = (
        Case.objects.filter(status__in=OPEN_STATUSES)
        .values("department")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if top is None or top["department"] is None:
        raise SystemExit("no open case with a department: seed the bench database first")
    department = Department.objects.get(pk=top["department"])
    user, _created = User.objects.get_or_create(username=BENCH_USER)
    user.groups.add(Group.objects.get(name=roles.DEPARTMENT_STAFF))
    StaffProfile.objects.update_or_create(user=user, defaults={"department": department})
    category = (
        Case.objects.filter(department=department).values_list("category_id", flat=True).first()
    )
    return user, department, top["n"], category


def _measure(client, rows: list[tuple[str, str, str]], iterations: int) -> tuple[dict, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results, plans = {}, {}
    for key, label, query in rows:
        url = f"/staff/queue/?{query}"
        for _ in range(3):  # warm up
            client.get(url)
        times = []
        for _ in range(iterations):
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        times.sort()
        results[key] = {
            "label": label,
            "median_ms": round(percentile(times, 0.5), 2),
            "p95_ms": round(percentile(times, 0.95), 2),
            "p99_ms": round(percentile(times, 0.99), 2),
            "queries": len(ctx.captured_queries),
            "rows": response.content.count(b'name="cases"'),
        }
        plans[key] = [
            {"sql": q["sql"][:600], "plan": explain(q["sql"])}
            for q in ctx.captured_queries
            if "cases_case" in q["sql"]
        ]
        print(f"  {label}: p95 {results[key]['p95_ms']:.1f} ms", flush=True)
    return results, plans


def child(args) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

    # Pages render without a collectstatic manifest (as in the tests); serving static
    # files is the web server's work, not the page's.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    from cetatea.cases.models import Case

    user, department, open_count, category = _setup()
    interactions = ensure_interactions(args.interactions)
    cases = Case.objects.count()
    client = Client()
    client.force_login(user)
    first = client.get("/staff/queue/").content.decode()
    match = re.search(r'href="/staff/queue/\?([^"]*)" rel="next"', first)
    cursor = ""
    if match:
        cursor = parse_qs(html.unescape(match.group(1))).get("cursor", [""])[0]
    cursor = quote(cursor)
    rows = [(key, label, q.format(category=category, cursor=cursor)) for key, label, q in ROWS]
    base = {
        "vendor": connection.vendor,
        "cases": cases,
        "interactions": interactions,
        "department": department.name_ro,
        "department_open": open_count,
    }
    runs = []
    if connection.vendor == "sqlite":
        with connection.cursor() as c:
            c.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            analyzed = c.fetchone() is not None
        if not analyzed:
            label = f"{args.child} (no ANALYZE)"
            results, plans = _measure(client, rows, args.iterations)
            runs.append({**base, "label": label, "results": results, "plans": plans})
        with connection.cursor() as c:
            c.execute("ANALYZE")
        connection.close()
    label = f"{args.child} (ANALYZE)" if connection.vendor == "sqlite" else args.child
    results, plans = _measure(client, rows, args.iterations)
    runs.append({**base, "label": label, "results": results, "plans": plans})
    Path(args.out).write_text(json.dumps(runs, indent=2, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument(
        "--interactions",
        type=int,
        default=5_000_000,
        help="interactions in the database (topped up with seed_scale)",
    )
    parser.add_argument("--db", choices=["all", "sqlite", "postgres"], default="all")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
