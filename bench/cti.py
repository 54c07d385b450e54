"""Benchmark caller-ID lookup on the CTI ``newCall`` event (``python bench/cti.py``).

For each database (SQLite in ``var/bench.sqlite3``; PostgreSQL ``cetatea_bench`` with
``--db postgres``, found as in ``bench/run.py``) a child process with the right
environment:

1. applies the telephony migrations only (``migrate telephony``: the bench database is
   shared with the other benchmarks) and tops the interactions up to ``--interactions``
   (5,000,000) with ``seed_scale``; persons and cases come from ``bench/run.py`` and
   ``bench/map.py``;
2. **server time**: ``POST /api/v1/cti/<token>`` through Django's test ``Client`` in the
   same process (middleware, token check, the view, ``cti_event``: number normalisation,
   the caller-ID lookup on ContactPoint (kind, value), the Call insert), ``--iterations``
   calls per row after 20 warm-up calls, each with a new callId:

   * ``newCall`` from a known caller: a random phone number in the database, sent as
     PBX scripts written for Zammad send it (international, no ``+``: ``40722123456``);
   * ``newCall`` from an unknown number (no person has it);
   * for information (no target): the lookup alone (``caller_lookup``, in process), and
     ``answer`` then ``hangup`` of a known caller's call, timed together (the hang-up
     writes the Interaction);

   reports median, p95, p99 in ms of wall time and the p95 of the thread's CPU time
   (which other work on the machine does not inflate), the SQL statements per call and
   the query plans (EXPLAIN; PostgreSQL ``EXPLAIN (ANALYZE, BUFFERS)``) of the caller-ID
   lookup and of the hang-up's Interaction lookup;
3. deletes every Call and Interaction it made (their call ids start with ``bench-``).

The database is measured as it is (SQLite: with whatever planner statistics it holds).
Results go to ``bench/results/cti-latest.json``; a Markdown table is printed.

    python bench/cti.py                     # SQLite, 500 calls per row
    python bench/cti.py --db all --iterations 1000
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

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

RESULTS = ROOT / "bench" / "results" / "cti-latest.json"
TOKEN = "bench-" + uuid.uuid4().hex
TARGET_MS = 10.0
BENCH_USER = "bench-cti-operator"  # the agent the calls are offered to; removed after
ROWS = [
    # key, label, target
    ("known", "newCall, known caller (40722123456)", TARGET_MS),
    ("unknown", "newCall, unknown number", TARGET_MS),
    ("lookup", "the caller-ID lookup alone (selector, no HTTP)", None),
    ("hangup", "answer + hangup (logs the Interaction)", None),
]


# --- parent -------------------------------------------------------------------------------


def run_child(label: str, env_update: dict, drop: list[str], args) -> dict:
    env_update = {**env_update, "CETATEA_CTI_TOKEN": TOKEN}
    options = {"iterations": args.iterations, "seed": args.seed, "interactions": args.interactions}
    return spawn_child(__file__, label, env_update, drop, options)


def markdown(runs: list[dict]) -> str:
    lines = [
        "| database | persons | cases | interactions | event | median ms | p95 ms | p99 ms "
        "| CPU p95 ms | SQL/call | p95 target |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in runs:
        for key, label, target in ROWS:
            r = run["results"][key]
            queries = (
                str(r["queries_min"])
                if r["queries_min"] == r["queries_max"]
                else f"{r['queries_min']}–{r['queries_max']}"
            )
            verdict = (
                "—" if target is None else f"< {target:g} ms " + ("ok" if r["ok"] else "**missed**")
            )
            lines.append(
                f"| {run['label']} | {run['persons']:,} | {run['cases']:,} | "
                f"{run.get('interactions', 0):,} | {label} | "
                f"{r['median_ms']:.2f} | {r['p95_ms']:.2f} | {r['p99_ms']:.2f} | "
                f"{r['cpu_p95_ms']:.2f} | {queries} | "
                f"{verdict} |"
            )
    return "\n".join(lines)


def parent(args) -> None:
    runs: list[dict] = []
    wanted = {"sqlite", "postgres"} if args.db == "all" else {args.db}
    if "sqlite" in wanted:
        path = Path(args.sqlite_path)
        if not path.exists():
            raise SystemExit(f"{path} is missing: run bench/run.py first to seed it")
        runs.append(run_child("SQLite", {"CETATEA_SQLITE_PATH": str(path)}, ["DATABASE_URL"], args))
    if "postgres" in wanted:
        url = postgres_url()
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
    RESULTS.write_text(json.dumps({"meta": meta, "runs": runs}, indent=2, ensure_ascii=False))
    print()
    print(markdown(runs))
    print(f"\nResults written to {RESULTS.relative_to(ROOT)}")


# --- child ----------------------------------------------------------------------------------


def sample_phones(rng: random.Random, count: int) -> list[str]:
    """Phone numbers of random persons, as a PBX sends them (international, no "+")."""
    from django.db.models import Max, Min

    from cetatea.people.models import ContactPoint

    bounds = ContactPoint.objects.filter(kind="phone").aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is None:
        raise SystemExit("the bench database holds no phone numbers: seed it with bench/run.py")
    found: list[str] = []
    while len(found) < count:
        ids = [rng.randint(bounds["lo"], bounds["hi"]) for _ in range(count)]
        found += list(
            ContactPoint.objects.filter(pk__in=ids, kind="phone", value__startswith="+40")
            .order_by()
            .values_list("value", flat=True)
        )
    rng.shuffle(found)
    return [v.lstrip("+") for v in found[:count]]


def unknown_phones(rng: random.Random, count: int) -> list[str]:
    """Valid Romanian mobile numbers that no person has."""
    from cetatea.people.models import ContactPoint

    numbers: list[str] = []
    while len(numbers) < count:
        batch = [f"+40799{rng.randint(0, 999_999):06d}" for _ in range(count)]
        taken = set(
            ContactPoint.objects.filter(kind="phone", value__in=batch).values_list(
                "value", flat=True
            )
        )
        numbers += [n.lstrip("+") for n in batch if n not in taken]
    return numbers[:count]


def measure(label: str, phones: dict[str, list[str]], run_id: str) -> tuple[dict, dict]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from cetatea.telephony.models import Call
    from cetatea.telephony.selectors import caller_lookup, phone_e164

    client = Client()
    url = f"/api/v1/cti/{settings.CETATEA_CTI_TOKEN}"  # the parent's TOKEN, through the env
    serial = iter(range(10**9))

    def post(data: dict):
        # Form-encoded, as a PBX script (curl --data) sends it.
        return client.post(
            url, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded"
        )

    def new_call(number: str) -> str:
        call_id = f"bench-{run_id}-{next(serial)}"
        response = post(
            {
                "event": "newCall",
                "from": number,
                "to": "40258811528",
                "direction": "in",
                "callId": call_id,
                "user[]": [BENCH_USER],
                "queue": "dispecerat",
            }
        )
        if response.status_code != 200:
            raise SystemExit(f"newCall {number}: HTTP {response.status_code} {response.content}")
        return call_id

    def end_call(call_id: str) -> None:
        for data in (
            {"event": "answer", "callId": call_id, "answeringNumber": BENCH_USER},
            {"event": "hangup", "callId": call_id, "cause": "normalClearing"},
        ):
            response = post(data)
            if response.status_code != 200:
                raise SystemExit(f"{data['event']}: HTTP {response.status_code}")

    def lookup(number: str) -> None:
        caller_lookup(phone_e164(number))

    results: dict = {}
    plans: dict = {}
    known_calls: list[str] = []
    for key, _label, target in ROWS:
        if key == "hangup":
            inputs = known_calls
            action = end_call
        elif key == "lookup":
            inputs = phones["known"]
            action = lookup
        else:
            inputs = phones[key]
            action = new_call
        for item in inputs[:20]:  # warm up (the newCalls' calls are ended below too)
            made = action(item)
            if key == "known":
                known_calls.append(made)
        timings = []
        cpu = []
        counts = []
        for i, item in enumerate(inputs[20:]):
            # The first 20 calls also count their SQL (query logging costs time of its own,
            # and Django keeps only the last 9,000 statements): the rest are timed bare.
            capture = CaptureQueriesContext(connection) if i < 20 else contextlib.nullcontext()
            with capture as ctx:
                t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
                made = action(item)
                timings.append((time.perf_counter_ns() - t0) / 1e6)
                cpu.append((time.thread_time_ns() - c0) / 1e6)
            if i < 20:
                counts.append(len(ctx.captured_queries))
            if i == 0:
                plans[key] = [
                    {"sql": q["sql"], "plan": explain(q["sql"])}
                    for q in ctx.captured_queries
                    if "people_contactpoint" in q["sql"] or 'FROM "cases_interaction"' in q["sql"]
                ]
            if key == "known":
                known_calls.append(made)
        timings.sort()
        cpu.sort()
        p95 = percentile(timings, 0.95)
        results[key] = {
            "median_ms": round(statistics.median(timings), 3),
            "p95_ms": round(p95, 3),
            "p99_ms": round(percentile(timings, 0.99), 3),
            "mean_ms": round(statistics.fmean(timings), 3),
            "max_ms": round(timings[-1], 3),
            # CPU time of this thread: what the call costs, whatever else the machine runs.
            "cpu_median_ms": round(statistics.median(cpu), 3),
            "cpu_p95_ms": round(percentile(cpu, 0.95), 3),
            "queries_min": min(counts),
            "queries_max": max(counts),
            "calls": len(timings),
            "target_ms": target,
            "ok": target is None or p95 < target,
        }
        print(
            f"{label:12} {key:8} median {results[key]['median_ms']:7.2f} ms  "
            f"p95 {p95:7.2f} ms  p99 {results[key]['p99_ms']:7.2f} ms  "
            f"CPU p95 {results[key]['cpu_p95_ms']:7.2f} ms  SQL {min(counts)}-{max(counts)}",
            flush=True,
        )
    found = Call.objects.filter(call_id__startswith=f"bench-{run_id}-", person__isnull=False)
    results["known"]["callers_found"] = found.count()
    return results, plans


def cleanup(run_id: str, user_created: bool) -> dict:
    from django.contrib.auth.models import User
    from django.db import transaction

    from cetatea.cases.models import Interaction
    from cetatea.telephony.models import Call

    prefix = f"bench-{run_id}-"
    with transaction.atomic():
        calls = Call.objects.filter(call_id__startswith=prefix).delete()[0]
        interactions = Interaction.objects.filter(
            channel="phone", external_id__startswith=prefix
        ).delete()[0]
        if user_created:
            User.objects.filter(username=BENCH_USER).delete()
    return {"calls_deleted": calls, "interactions_deleted": interactions}


def child(args) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cetatea.settings")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection

    from cetatea.cases.models import Case
    from cetatea.catalog.models import StaffProfile
    from cetatea.people.models import Person

    call_command("migrate", "telephony", interactive=False, verbosity=0)
    interactions = ensure_interactions(args.interactions)
    operator, user_created = User.objects.get_or_create(username=BENCH_USER)
    StaffProfile.objects.get_or_create(user=operator)
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute("select sqlite_version()" if vendor == "sqlite" else "show server_version")
        version = cursor.fetchone()[0]
    rng = random.Random(args.seed)
    n = args.iterations + 20
    phones = {"known": sample_phones(rng, n), "unknown": unknown_phones(rng, n)}
    run_id = uuid.uuid4().hex[:8]
    try:
        results, plans = measure(args.child, phones, run_id)
    finally:
        removed = cleanup(run_id, user_created)
    run = {
        "label": args.child,
        "vendor": vendor,
        "version": version,
        "persons": Person.objects.count(),
        "cases": Case.objects.count(),
        "interactions": interactions,
        "results": results,
        "plans": plans,
        "cleanup": removed,
    }
    Path(args.out).write_text(json.dumps(run, indent=2, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--interactions",
        type=int,
        default=5_000_000,
        help="interactions in the database (topped up with seed_scale)",
    )
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--db", choices=["all", "sqlite", "postgres"], default="sqlite")
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
