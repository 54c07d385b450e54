"""Benchmark the import from the revenue system (issue 7): 1,000,000 obligation rows.

The parent writes two CSV files under ``var/`` (kept and reused: they depend only on
``--rows``, ``--taxpayers`` and ``--seed``):

* ``bench-revenue-taxpayers-<T>.csv``: ``--taxpayers`` (default ``--rows`` / 10)
  taxpayer accounts with valid CNPs, in the Romanian layout (``;``, Romanian headers);
* ``bench-revenue-obligations-<N>.csv``: ``--rows`` obligations, ten a taxpayer
  (building, land and vehicle taxes of 2017-2026, amounts with a decimal comma, some of
  at most 50 lei so due whole by the first term), in the order of the taxpayer accounts
  as revenue systems export them; each row gets its instalments from the year's terms.

Then, for each database, on a **fresh** database every run (SQLite
``var/bench-revenue-import.sqlite3``; PostgreSQL ``cetatea_bench_revenue_import`` on the
server ``bench/run.py`` uses, dropped and created again), three child processes run
``manage.py import_revenue`` as an operator would:

1. *taxpayers*: migrate, the fiscal years' terms, the taxpayers file (this creates the
   persons too, one ``person_create`` each: timed, no target);
2. *obligations*: the obligations file, timed;
3. *rerun*: the same file again: every row must come back "unchanged".

Each child reports its wall time, rows per second and its peak RSS
(``getrusage(RUSAGE_SELF).ru_maxrss``: Python, Django and the import together). Targets:
the obligations import under 300 s, peak RSS under 500 MB. Results go to
``bench/results/revenue-import-latest.json``; a Markdown table is printed.

    python bench/revenue_import.py                   # 1,000,000 rows, both databases
    python bench/revenue_import.py --rows 50000 --db sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import DEFAULT_PG_ADMIN_URL, ROOT, _with_db, spawn_child  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "revenue-import-latest.json"
SQLITE_PATH = ROOT / "var" / "bench-revenue-import.sqlite3"
PG_DB_NAME = "cetatea_bench_revenue_import"
TARGET_SECONDS = 300.0
TARGET_RSS_MB = 500.0
YEARS = list(range(2017, 2027))
TAX_TYPES = ["cladiri", "teren", "auto"]
STREETS = [
    "Str. Mihai Viteazul",
    "Bd. Transilvania",
    "Calea Moților",
    "Str. Tudor Vladimirescu",
    "Bd. Revoluției 1989",
    "Str. Cloșca",
    "Str. Vasile Goldiș",
    "Bd. Încoronării",
]
LAST = ["POPESCU", "POP", "MOLDOVAN", "MUREȘAN", "SUCIU", "CRIȘAN", "ARDELEAN", "OLTEAN"]
FIRST = ["ION", "MARIA", "IOAN", "ELENA", "ANDREI", "ANA", "ȘTEFAN", "IOANA"]


# --- the files --------------------------------------------------------------------------------


def cnp_for(i: int) -> str:
    """The ``i``-th of a series of distinct valid CNPs (999 a birth date, from 1950)."""
    from stdnum.ro import cnp

    born = dt.date(1950, 1, 1) + dt.timedelta(days=i // 999)
    sex = "1" if i % 2 else "2"
    body = f"{sex}{born:%y%m%d}01{i % 999 + 1:03d}"
    return body + cnp.calc_check_digit(body)


def write_files(rows: int, taxpayers: int, seed: int) -> tuple[Path, Path]:
    folder = ROOT / "var"
    folder.mkdir(parents=True, exist_ok=True)
    tp_path = folder / f"bench-revenue-taxpayers-{taxpayers}-{seed}.csv"
    ob_path = folder / f"bench-revenue-obligations-{rows}-{taxpayers}-{seed}.csv"
    rng = random.Random(seed)
    cnps = [cnp_for(i) for i in range(taxpayers)]
    if not tp_path.exists():
        started = time.perf_counter()
        with tp_path.open("w", encoding="utf-8", newline="") as out:
            out.write("rol;cnp_cui;nume;prenume;adresa\n")
            for i, cnp in enumerate(cnps):
                out.write(
                    f"{100000 + i};{cnp};{rng.choice(LAST)};{rng.choice(FIRST)};"
                    f"{rng.choice(STREETS)} nr. {rng.randint(1, 120)}, Alba Iulia\n"
                )
        print(f"wrote {tp_path.name} in {time.perf_counter() - started:.1f} s", flush=True)
    if not ob_path.exists():
        started = time.perf_counter()
        per = -(-rows // taxpayers)
        written = 0
        with ob_path.open("w", encoding="utf-8", newline="") as out:
            out.write("id;cnp_cui;tip;an;suma;obiect\n")
            for i, cnp in enumerate(cnps):
                street = f"{rng.choice(STREETS)} nr. {rng.randint(1, 120)}"
                plate = f"AB-{rng.randint(10, 99)}-{rng.choice(['POP', 'ION', 'XYZ', 'MUR'])}"
                for k in range(per):
                    if written == rows:
                        break
                    tax = TAX_TYPES[k % 3]
                    lei = rng.choice([rng.randint(12, 50), rng.randint(51, 2400)])
                    subject = plate if tax == "auto" else street
                    out.write(
                        f"D{i:07d}-{k:02d};{cnp};{tax};{YEARS[k % len(YEARS)]};"
                        f"{lei},{rng.randint(0, 99):02d};{subject}\n"
                    )
                    written += 1
        print(f"wrote {ob_path.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return tp_path, ob_path


# --- parent -------------------------------------------------------------------------------


def fresh_postgres() -> str | None:
    """A new, empty ``cetatea_bench_revenue_import`` (dropped first); None without a server."""
    try:
        import psycopg
    except ImportError:
        return None
    explicit = os.environ.get("BENCH_REVENUE_IMPORT_DATABASE_URL")
    target = explicit or _with_db(DEFAULT_PG_ADMIN_URL, PG_DB_NAME)
    admin = _with_db(target, "postgres") if explicit else DEFAULT_PG_ADMIN_URL
    name = target.rsplit("/", 1)[-1]
    try:
        with psycopg.connect(admin, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL not used: {exc}".strip(), file=sys.stderr)
        return None
    return target


def run_database(label: str, env: dict, drop: list[str], args, files) -> dict:
    result = {"label": label, "phases": {}}
    for phase, path in (("taxpayers", files[0]), ("obligations", files[1]), ("rerun", files[1])):
        options = {"phase": phase, "file": str(path), "batch": args.batch}
        result["phases"][phase] = spawn_child(__file__, f"{label}: {phase}", env, drop, options)
    return result


def markdown(runs: list[dict]) -> str:
    lines = [
        "| database | file | rows | created | unchanged | rejected | seconds | rows/s "
        "| peak RSS MB | target |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in runs:
        for phase, r in run["phases"].items():
            if phase == "taxpayers":
                verdict = "—"
            else:
                ok = r["seconds"] < TARGET_SECONDS and r["peak_rss_mb"] < TARGET_RSS_MB
                verdict = f"< {TARGET_SECONDS:g} s, < {TARGET_RSS_MB:g} MB " + (
                    "ok" if ok else "**missed**"
                )
            lines.append(
                f"| {run['label']} | {phase} | {r['rows']:,} | {r['created']:,} | "
                f"{r['unchanged']:,} | {r['rejected']:,} | {r['seconds']:.1f} | "
                f"{r['rows_per_second']:,.0f} | {r['peak_rss_mb']:.0f} | {verdict} |"
            )
    return "\n".join(lines)


def parent(args) -> None:
    taxpayers = args.taxpayers or max(1, args.rows // 10)
    files = write_files(args.rows, taxpayers, args.seed)
    runs = []
    wanted = {"sqlite", "postgres"} if args.db == "all" else {args.db}
    if "sqlite" in wanted:
        for suffix in ("", "-wal", "-shm"):
            Path(str(SQLITE_PATH) + suffix).unlink(missing_ok=True)
        env = {"CETATEA_SQLITE_PATH": str(SQLITE_PATH)}
        runs.append(run_database("SQLite", env, ["DATABASE_URL"], args, files))
    if "postgres" in wanted:
        url = fresh_postgres()
        if url is None:
            print("PostgreSQL: no server answers; skipped.", file=sys.stderr)
        else:
            runs.append(run_database("PostgreSQL", {"DATABASE_URL": url}, [], args, files))
    meta = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "rows": args.rows,
        "taxpayers": taxpayers,
        "batch": args.batch,
        "targets": {"seconds": TARGET_SECONDS, "peak_rss_mb": TARGET_RSS_MB},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"meta": meta, "runs": runs}, indent=2, ensure_ascii=False))
    print()
    print(markdown(runs))
    print(f"\nResults written to {RESULTS.relative_to(ROOT)}")


# --- child ----------------------------------------------------------------------------------


def ensure_terms() -> None:
    """The fiscal years of the file: 31 March / 30 September, 50 lei paid whole."""
    from decimal import Decimal

    from cetatea.revenue.models import FiscalYear

    for year in YEARS:
        FiscalYear.objects.get_or_create(
            year=year,
            defaults={
                "first_due": dt.date(year, 3, 31),
                "second_due": dt.date(year, 9, 30),
                "small_tax_limit": Decimal("50.00"),
                "decision": "bench",
            },
        )


def child(args) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cetatea.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from cetatea.revenue.models import ImportRun, Instalment, Obligation

    if args.phase == "taxpayers":
        call_command("migrate", interactive=False, verbosity=0)
        ensure_terms()
    connection.close()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kind = "taxpayers" if args.phase == "taxpayers" else "obligations"
    started = time.perf_counter()
    out = io.StringIO()
    call_command(
        "import_revenue",
        kind,
        args.file,
        "--batch",
        str(args.batch),
        "--rejects",
        str(ROOT / "var" / f"bench-revenue-{args.phase}.rejects.csv"),
        stdout=out,
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(out.getvalue().strip(), flush=True)
    run = ImportRun.objects.order_by("-pk").first()
    result = {
        "phase": args.phase,
        "vendor": connection.vendor,
        "rows": run.rows,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "rejected": run.rejected,
        "seconds": round(seconds, 2),
        "rows_per_second": round(run.rows / seconds, 1) if seconds else None,
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak, 1),
        "obligations": Obligation.objects.count(),
        "instalments": Instalment.objects.count(),
    }
    print(
        f"{args.phase}: {run.rows:,} rows in {seconds:.1f} s "
        f"({result['rows_per_second']:,.0f} rows/s), peak RSS {peak:.0f} MB",
        flush=True,
    )
    Path(args.out).write_text(json.dumps(result, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--taxpayers", type=int, default=None, help="default: rows / 10")
    parser.add_argument("--db", choices=["all", "sqlite", "postgres"], default="all")
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
