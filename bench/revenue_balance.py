"""Benchmark the balance (issue 7): ``account_balance`` for taxpayers with 10 years of history.

For each database (SQLite in ``var/bench-revenue.sqlite3``; PostgreSQL, database
``cetatea_bench_revenue`` on the server ``bench/run.py`` uses, created if missing, or
``BENCH_REVENUE_DATABASE_URL``) a child process with the right environment:

1. migrates, loads the dated configuration (``load_revenue_config``) and, if the database
   holds fewer than ``--accounts`` (20,000) taxpayer accounts, tops them up (timed): persons
   from ``seed_scale`` where there are not enough without an account, then for each new
   account ``--years`` (10) fiscal years up to this one, each with a building, a land and a
   vehicle tax in the year's default instalments, the payments of a taxpayer who pays early
   for the bonus (60 %), by instalments, sometimes a few days late (25 %), or late and in
   part (15 %), and a fine in about one year in three (paid at half in time, paid whole
   later, or left to become enforceable). Rows are written with ``bulk_create``, one
   transaction per ``--batch`` accounts; the history of account ``i`` is a pure function of
   ``i`` and ``--seed``, so a top-up continues where the last run stopped;
2. PostgreSQL gets ``ANALYZE``; SQLite is measured as loaded (Django never runs ANALYZE);
3. calls ``cetatea.revenue.balance.account_balance(account)`` (today's balance) for
   ``--iterations`` (500) random accounts, the account row already read (as the 360° page
   and the portal have it): p50/p95/p99/max in ms, SQL statements per call, and the plans
   (EXPLAIN; PostgreSQL ``EXPLAIN (ANALYZE, BUFFERS)``) of the statements of one call.

Results go to ``bench/results/revenue-balance-latest.json``; a Markdown table is printed.

    python bench/revenue_balance.py                         # 20,000 accounts, both databases
    python bench/revenue_balance.py --accounts 2000 --db sqlite --iterations 200
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import statistics
import sys
import time
from decimal import Decimal
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

RESULTS = ROOT / "bench" / "results" / "revenue-balance-latest.json"
SQLITE_PATH = ROOT / "var" / "bench-revenue.sqlite3"
PG_DB_NAME = "cetatea_bench_revenue"
TARGET_MS = 20.0
CENT = Decimal("0.01")


# --- parent -------------------------------------------------------------------------------


def revenue_postgres_url() -> str | None:
    """The PostgreSQL database of this benchmark, created like ``bench/run.py`` does."""
    explicit = os.environ.get("BENCH_REVENUE_DATABASE_URL")
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
    names = ("accounts", "years", "iterations", "batch", "seed")
    return spawn_child(__file__, label, env_update, drop, {n: getattr(args, n) for n in names})


def markdown(runs: list[dict]) -> str:
    lines = [
        "| database | accounts | history per account | p50 ms | p95 ms | p99 ms | max ms "
        "| SQL/call | p95 target |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in runs:
        r = run["balance"]
        h = run["history"]
        queries = (
            str(r["queries_min"])
            if r["queries_min"] == r["queries_max"]
            else f"{r['queries_min']}–{r['queries_max']}"
        )
        verdict = "ok" if r["ok"] else "**missed**"
        lines.append(
            f"| {run['label']} | {run['accounts']:,} | {h['years']} years: "
            f"{h['obligations']:.0f} taxes, {h['instalments']:.0f} instalments, "
            f"{h['payments']:.0f} payments, {h['fines']:.1f} fines | {r['p50_ms']:.2f} | "
            f"{r['p95_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} | {queries} | "
            f"< {TARGET_MS:g} ms {verdict} |"
        )
    return "\n".join(lines)


def parent(args) -> None:
    runs: list[dict] = []
    wanted = {"sqlite", "postgres"} if args.db == "all" else {args.db}
    if "sqlite" in wanted:
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        runs.append(
            run_child("SQLite", {"CETATEA_SQLITE_PATH": str(SQLITE_PATH)}, ["DATABASE_URL"], args)
        )
    if "postgres" in wanted:
        url = revenue_postgres_url()
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
            f"{run['load']['end']} at the end"
        )
    print(f"\nResults written to {RESULTS.relative_to(ROOT)}")


# --- child: data --------------------------------------------------------------------------


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    """An amount between ``low`` and ``high``, more often near the bottom."""
    return Decimal(low + (high - low) * rng.random() ** 2).quantize(CENT)


def _day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, max(0, (last - first).days)))


def account_history(index: int, kind: str, years: list[int], config: dict, today, seed: int):
    """The obligations, fines and payments of bench account ``index`` (a pure function of
    its arguments). Payments name the obligation or fine they were meant for."""
    from cetatea.revenue.terms import default_instalments, round_leu

    rng = random.Random(seed * 1_000_003 + index)
    company = kind == "company"
    obligations, fines, payments = [], [], []
    pay_n = 0

    def pay(day, amount, obligation=None, fine=None):
        nonlocal pay_n
        if day <= today and amount > 0:
            pay_n += 1
            payments.append((f"BP{index}-{pay_n}", day, amount, obligation, fine))

    for year in years:
        terms = config["terms"][year]
        taxes = [
            ("building", _money(rng, 3000, 30000) if company else _money(rng, 80, 1500)),
            ("land", _money(rng, 200, 4000) if company else _money(rng, 12, 400)),
            ("vehicle", _money(rng, 300, 6000) if company else _money(rng, 40, 1200)),
        ]
        year_obligations = []
        for tax_type, amount in taxes:
            ext = f"BO{index}-{year}-{tax_type}"
            parts = default_instalments(tax_type=tax_type, amount=amount, terms=terms)
            percent = config["bonus"].get((year, tax_type, kind))
            bonus = round_leu(amount * percent / 100) if percent else Decimal(0)
            year_obligations.append((ext, tax_type, year, amount, parts, bonus))
        obligations += year_obligations
        behaviour = rng.random()
        if behaviour < 0.6:  # the whole year early, for the bonus, in one payment
            day = _day(rng, dt.date(year, 2, 1), dt.date(year, 3, 28))
            pay(day, sum(a - b for _e, _t, _y, a, _p, b in year_obligations))
        elif behaviour < 0.85:  # by instalments, each tax paid separately, sometimes late
            for ext, _t, _y, _a, parts, _b in year_obligations:
                for _seq, due, part in parts:
                    late = rng.random() < 0.2
                    day = due + dt.timedelta(
                        days=rng.randint(1, 45) if late else -rng.randint(0, 20)
                    )
                    pay(day, part, obligation=ext)
        else:  # late and in part
            total = sum(a for _e, _t, _y, a, _p, _b in year_obligations)
            for _k in range(rng.randint(1, 3)):
                day = _day(rng, dt.date(year, 4, 1), dt.date(year + 1, 3, 1))
                pay(day, (total * Decimal(rng.uniform(0.2, 0.5))).quantize(CENT))
        if rng.random() < 0.33:
            amount = Decimal(rng.choice([100, 200, 500, 1000, 1500, 2500]))
            issued = _day(rng, dt.date(year, 1, 5), dt.date(year, 11, 30))
            communicated = issued + dt.timedelta(days=rng.choice([0, 0, 0, 3, 7]))
            half = (amount / 4).quantize(CENT) if rng.random() < 0.7 else None
            ext = f"BF{index}-{year}"
            outcome = rng.random()
            enforceable = None
            if half is not None and outcome < 0.5:
                pay(communicated + dt.timedelta(days=rng.randint(0, 14)), half, fine=ext)
            elif outcome < 0.8:
                pay(communicated + dt.timedelta(days=rng.randint(16, 120)), amount, fine=ext)
            else:
                enforceable = communicated + dt.timedelta(days=45)
            fines.append((ext, issued, communicated, amount, half, enforceable))
    return obligations, fines, payments


OBLIGATION_COLUMNS = [
    "account_id",
    "external_id",
    "tax_type",
    "fiscal_year",
    "subject",
    "amount",
    "content_hash",
    "created_at",
    "updated_at",
]
FINE_COLUMNS = [
    "account_id",
    "external_id",
    "series",
    "number",
    "unique_code",
    "issued_on",
    "communicated_on",
    "issuer",
    "legal_basis",
    "amount",
    "half_minimum",
    "enforceable_since",
    "status",
    "content_hash",
    "created_at",
    "updated_at",
]
PAYMENT_COLUMNS = [
    "account_id",
    "external_id",
    "paid_on",
    "amount",
    "method",
    "receipt",
    "obligation_id",
    "fine_id",
    "content_hash",
    "created_at",
]


def insert_many(model, columns: list[str], rows: list[tuple]) -> None:
    """INSERT rows already adapted to the database, skipping the ORM's per-object work
    (which cost most of the seeding time)."""
    from django.db import connection

    if not rows:
        return
    # Table and column names come from the model, the values are parameters.
    table, names = model._meta.db_table, ", ".join(columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 10_000):
            cursor.executemany(sql, rows[start : start + 10_000])


def ensure_accounts(args) -> dict:
    """Top the bench accounts up to ``--accounts`` (timed)."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from cetatea.core.workdays import local_date
    from cetatea.people.models import Person
    from cetatea.revenue.models import (
        BonusRate,
        Fine,
        FiscalYear,
        Instalment,
        Obligation,
        Payment,
        TaxpayerAccount,
    )

    have = TaxpayerAccount.objects.count()
    want = args.accounts - have
    if want <= 0:
        print(f"{have:,} accounts already there: not seeding", flush=True)
        return {"accounts": 0, "seconds": None}
    started = time.perf_counter()
    free = Person.objects.filter(taxpayer_accounts__isnull=True, merged_into__isnull=True).count()
    if free < want:
        call_command(
            "seed_scale", persons=want - free, batch=10_000, seed=args.seed, stdout=io.StringIO()
        )
        print(f"seeded {want - free:,} persons", flush=True)
    today = local_date(timezone.now())
    years = list(range(today.year - args.years + 1, today.year + 1))
    config = {
        "terms": {fy.year: fy for fy in FiscalYear.objects.filter(year__in=years)},
        "bonus": {
            (b.year, b.tax_type, b.taxpayer_kind): b.percent for b in BonusRate.objects.all()
        },
    }
    missing = [y for y in years if y not in config["terms"]]
    if missing:
        raise SystemExit(f"no fiscal year configured for {missing}")
    insert_batch = 1000 if connection.vendor == "postgresql" else None
    counts = {"obligations": 0, "instalments": 0, "fines": 0, "payments": 0}
    index = have
    done = 0
    while done < want:
        size = min(args.batch, want - done)
        persons = list(
            Person.objects.filter(taxpayer_accounts__isnull=True, merged_into__isnull=True)
            .order_by("id")
            .values_list("id", "kind", "last_name", "first_name", "national_id_hash")[:size]
        )
        if not persons:
            raise SystemExit("no person left without an account")
        with transaction.atomic():
            accounts = [
                TaxpayerAccount(
                    external_id=f"B{index + k:08d}",
                    person_id=pid,
                    kind="company" if pkind == "organisation" else "individual",
                    national_id_hash=nid_hash,
                    name=f"{last} {first}".strip(),
                )
                for k, (pid, pkind, last, first, nid_hash) in enumerate(persons)
            ]
            TaxpayerAccount.objects.bulk_create(accounts, batch_size=insert_batch)
            histories = [
                account_history(index + k, a.kind, years, config, today, args.seed)
                for k, a in enumerate(accounts)
            ]
            adapt_date = connection.ops.adapt_datefield_value
            adapt_money = connection.ops.adapt_decimalfield_value
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            obligations, parts = [], {}
            for account, (obs, _f, _p) in zip(accounts, histories, strict=True):
                for ext, tax_type, year, amount, instalments, _bonus in obs:
                    obligations.append(
                        (account.id, ext, tax_type, year, "", adapt_money(amount, 14, 2))
                        + ("", now, now)
                    )
                    parts[ext] = instalments
            insert_many(Obligation, OBLIGATION_COLUMNS, obligations)
            account_ids = [a.id for a in accounts]
            ob_ids = dict(
                Obligation.objects.filter(account_id__in=account_ids).values_list(
                    "external_id", "id"
                )
            )
            instalments = [
                (ob_ids[ext], seq, adapt_date(due), adapt_money(part, 14, 2))
                for ext, rows in parts.items()
                for seq, due, part in rows
            ]
            insert_many(Instalment, ["obligation_id", "seq", "due_date", "amount"], instalments)
            fines = [
                (account.id, ext, "AB", ext[2:], "", adapt_date(issued), adapt_date(communicated))
                + ("Poliția Locală Alba Iulia", "", adapt_money(amount, 14, 2))
                + (adapt_money(half, 14, 2) if half is not None else None,)
                + (adapt_date(enforceable) if enforceable else None, "unpaid", "", now, now)
                for account, (_o, fs, _p) in zip(accounts, histories, strict=True)
                for ext, issued, communicated, amount, half, enforceable in fs
            ]
            insert_many(Fine, FINE_COLUMNS, fines)
            fine_ids = dict(
                Fine.objects.filter(account_id__in=account_ids).values_list("external_id", "id")
            )
            payments = [
                (
                    account.id,
                    ext,
                    adapt_date(day),
                    adapt_money(amount, 14, 2),
                    "bank" if ob_ext else "cash",
                    "",
                    ob_ids.get(ob_ext),
                    fine_ids.get(fine_ext),
                    "",
                    now,
                )
                for account, (_o, _f, ps) in zip(accounts, histories, strict=True)
                for ext, day, amount, ob_ext, fine_ext in ps
            ]
            insert_many(Payment, PAYMENT_COLUMNS, payments)
        counts["obligations"] += len(obligations)
        counts["instalments"] += len(instalments)
        counts["fines"] += len(fines)
        counts["payments"] += len(payments)
        index += len(persons)
        done += len(persons)
        elapsed = time.perf_counter() - started
        print(f"accounts {done:,}/{want:,}  {done / elapsed:,.0f}/s  {elapsed:.0f} s", flush=True)
    seconds = round(time.perf_counter() - started, 1)
    print(f"seeded {want:,} accounts ({counts}) in {seconds} s", flush=True)
    return {"accounts": want, **counts, "seconds": seconds}


# --- child: measuring ---------------------------------------------------------------------


def measure(args) -> tuple[dict, list, dict]:
    from django.db import connection
    from django.db.models import Max, Min
    from django.test.utils import CaptureQueriesContext

    from cetatea.revenue.balance import account_balance
    from cetatea.revenue.models import TaxpayerAccount

    rng = random.Random(args.seed)
    bounds = TaxpayerAccount.objects.aggregate(lo=Min("id"), hi=Max("id"))
    accounts = []
    while len(accounts) < args.iterations:
        ids = [rng.randint(bounds["lo"], bounds["hi"]) for _ in range(args.iterations)]
        accounts += list(TaxpayerAccount.objects.filter(id__in=ids))
    rng.shuffle(accounts)
    accounts = accounts[: args.iterations]

    for account in accounts[:20]:  # warm up
        account_balance(account)
    timings, counts = [], []
    size = {"obligations": 0, "instalments": 0, "payments": 0, "fines": 0, "allocations": 0}
    owed = 0
    plans = []
    for i, account in enumerate(accounts):
        if i < 20:
            with CaptureQueriesContext(connection) as ctx:
                account_balance(account)
            counts.append(len(ctx.captured_queries))
            if i == 0:
                plans = [{"sql": q["sql"], "plan": explain(q["sql"])} for q in ctx.captured_queries]
        t0 = time.perf_counter_ns()
        balance = account_balance(account)
        timings.append((time.perf_counter_ns() - t0) / 1e6)
        size["obligations"] += len(balance.obligations)
        size["instalments"] += sum(len(o.instalments) for o in balance.obligations)
        size["payments"] += len({a.payment.id for a in balance.allocations})
        size["fines"] += len(balance.fines)
        size["allocations"] += len(balance.allocations)
        owed += balance.total > 0
    timings.sort()
    p95 = percentile(timings, 0.95)
    result = {
        "p50_ms": round(statistics.median(timings), 3),
        "p95_ms": round(p95, 3),
        "p99_ms": round(percentile(timings, 0.99), 3),
        "mean_ms": round(statistics.fmean(timings), 3),
        "max_ms": round(timings[-1], 3),
        "queries_min": min(counts),
        "queries_max": max(counts),
        "calls": len(timings),
        "accounts_owing": owed,
        "target_ms": TARGET_MS,
        "ok": p95 < TARGET_MS,
    }
    history = {k: round(v / len(accounts), 2) for k, v in size.items()}
    history["years"] = args.years
    print(
        f"{args.child:10} balance p50 {result['p50_ms']:7.2f}  p95 {p95:7.2f}  "
        f"p99 {result['p99_ms']:7.2f}  max {result['max_ms']:7.2f} ms  "
        f"SQL {result['queries_min']}-{result['queries_max']}  history {history}",
        flush=True,
    )
    return result, plans, history


# --- child --------------------------------------------------------------------------------


def child(args) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cetatea.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from cetatea.revenue.models import Instalment, Obligation, Payment, TaxpayerAccount

    loads = {"start": load()}
    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_revenue_config", stdout=io.StringIO())
    seeded = ensure_accounts(args)
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute("select sqlite_version()" if vendor == "sqlite" else "show server_version")
        version = cursor.fetchone()[0]
        if vendor == "postgresql":
            cursor.execute("ANALYZE")
    connection.close()
    balance, plans, history = measure(args)
    loads["end"] = load()
    run = {
        "label": args.child,
        "vendor": vendor,
        "version": version,
        "accounts": TaxpayerAccount.objects.count(),
        "obligations": Obligation.objects.count(),
        "instalments": Instalment.objects.count(),
        "payments": Payment.objects.count(),
        "seeded": seeded,
        "balance": balance,
        "history": history,
        "plans": plans,
        "load": loads,
    }
    Path(args.out).write_text(json.dumps(run, indent=2, ensure_ascii=False, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=10, help="of history per account")
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--db", choices=["all", "sqlite", "postgres"], default="all")
    parser.add_argument("--batch", type=int, default=1000, help="accounts per transaction")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
