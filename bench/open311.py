"""Benchmark the Open311 GeoReport v2 API at scale: 1,000,000 cases (``python bench/open311.py``).

For each database (SQLite in ``var/bench.sqlite3``; PostgreSQL ``cetatea_bench``, found
as in ``bench/run.py``) a child process with the right environment:

1. migrates, loads the catalogue and brings the database to ``--cases`` cases exactly as
   ``bench/map.py`` does (``seed_scale``, then ``rebuild_map_cells`` if the map's cells
   are stale), so both benchmarks share one database;
2. **server time**: requests through Django's test ``Client`` in the same process (the
   whole stack: middleware, the view, the selector, XML/JSON), ``--iterations`` calls per
   row after 20 warm-up calls:

   * ``GET /open311/v2/requests.json?page_size=100``: the default window (the last 90
     days), newest first, the first page of 100;
   * ``GET /open311/v2/requests/{id}.xml``: a random public case each call;
   * for information (no target), the first list with ``extensions=true`` (the area, the
     photos and the public history of each request);

   reports median, p95, p99, the SQL statements per call and the query plans (EXPLAIN;
   PostgreSQL ``EXPLAIN (ANALYZE, BUFFERS)``) of the slowest call of each row;
3. **load run** (``--load``): starts the production server, gunicorn with 2 sync workers
   on a free port of 127.0.0.1 (``cetatea.wsgi:application``, ``CETATEA_DEBUG=false``,
   the same database), and drives it over loopback with ``wrk`` (installed with apt-get
   when missing and running as root): the two GETs above, then ``POST requests.xml``
   (form-encoded, an api key made for the run, each request with its own description,
   category and point in the city, so each files a new case). Reports requests/s, latency
   percentiles, non-2xx answers and socket errors; any error fails the run. The cases
   the POST load filed leave the map's cells and are deleted with their client afterwards.

SQLite's server times come twice: as loaded (no planner statistics: Django never runs
``ANALYZE``) and after ``ANALYZE``. PostgreSQL is measured after ``ANALYZE``. The load run
follows the measurement after ``ANALYZE``.

No rate limit applies to ``/open311/`` (django-ratelimit guards the portal's forms only);
the child turns ``RATELIMIT_ENABLE`` off anyway, as ``bench/map.py`` does.

Results go to ``bench/results/open311-latest.json``; Markdown tables are printed.

    python bench/open311.py                        # 1,000,000 cases, both databases
    python bench/open311.py --load                 # and the load run with gunicorn + wrk
    python bench/open311.py --db postgres --load --duration 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from map import data_profile, prepare_cases, rollup_check, timed_client  # noqa: E402
from run import ROOT, SQLITE_PATH, explain, percentile, postgres_url, spawn_child  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "open311-latest.json"
TARGET_MS = 30.0
LIST_PATH = "/open311/v2/requests.json?page_size=100"
DETAIL_PATH = "/open311/v2/requests/{ref}.xml"
POST_PATH = "/open311/v2/requests.xml"
ROWS = [  # key, label, whether the p95 target applies
    ("list", "GET requests.json?page_size=100 (90 days)", True),
    ("get", "GET requests/{id}.xml (random public case)", True),
    ("ext", "GET requests.json?page_size=100&extensions=true", False),
]
EXT_PATH = LIST_PATH + "&extensions=true"
LOAD_ROWS = [
    ("list", "GET requests.json?page_size=100"),
    ("get", "GET requests/{id}.xml"),
    ("post", "POST requests.xml (new case)"),
]
LOAD_CLIENT_NAME = "bench/open311.py load run"


# --- parent -------------------------------------------------------------------------------


def run_child(label: str, env_update: dict, drop: list[str], args) -> dict:
    names = ("cases", "iterations", "batch", "seed", "duration", "warmup")
    options = {n: getattr(args, n) for n in (*names, "connections", "threads", "workers")}
    flags = [f for f in ("load", "skip_measure", "skip_analyzed") if getattr(args, f)]
    drop = drop + ["CETATEA_TASKS_BACKEND", "CETATEA_EMAIL_BACKEND", "REDIS_URL"]
    return spawn_child(__file__, label, env_update, drop, options, flags, media=True)


def _verdict(ok: bool) -> str:
    return "ok" if ok else "**missed**"


def _queries(r: dict) -> str:
    lo, hi = r["queries_min"], r["queries_max"]
    return str(lo) if lo == hi else f"{lo}–{hi}"


def markdown_server(runs: list[dict]) -> str:
    lines = [
        "| database | request | calls | median ms | p95 ms | p99 ms | SQL/call | returned "
        "| p95 < 30 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for run in runs:
        for m in run.get("server", []):
            for r in m["rows"]:
                lines.append(
                    f"| {m['label']} | {r['request_label']} | {r['calls']} | "
                    f"{r['median_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | "
                    f"{_queries(r)} | {r['returned']} | "
                    f"{_verdict(r['ok']) if r['target_ms'] else 'information'} |"
                )
    return "\n".join(lines)


def markdown_load(runs: list[dict]) -> str:
    lines = [
        "| database | request | duration | connections | requests | req/s | p50 ms | p90 ms "
        "| p99 ms | max ms | non-2xx | socket errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        load = run.get("load")
        if not load:
            continue
        for r in load["rows"]:
            lines.append(
                f"| {run['label']} | {r['request_label']} | {r['duration_s']:.0f} s | "
                f"{load['connections']} | {r['requests']:,} | {r['rps']:.1f} | "
                f"{r['p50_ms']:.1f} | {r['p90_ms']:.1f} | {r['p99_ms']:.1f} | "
                f"{r['max_ms']:.1f} | {r['non_2xx']} | {r['socket_errors']} |"
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
        url = postgres_url()
        if url is None:
            print("PostgreSQL: no server answers; skipped.", file=sys.stderr)
        else:
            runs.append(run_child("PostgreSQL", {"DATABASE_URL": url}, [], args))
    commit = subprocess.run(  # noqa: S603
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    meta = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "iterations": args.iterations,
        "load": args.load,
    }
    results = Path(args.results)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({"meta": meta, "runs": runs}, indent=2, ensure_ascii=False))
    print()
    print(markdown_server(runs))
    if args.load:
        print()
        print(markdown_load(runs))
    print(f"\nResults written to {results}")
    missed = [
        f"{m['label']} {r['request']}"
        for run in runs
        for m in run.get("server", [])
        for r in m["rows"]
        if r["target_ms"] and not r["ok"]
    ]
    if missed:
        print(f"p95 target of {TARGET_MS:g} ms missed: {', '.join(missed)}")


# --- child: server time -----------------------------------------------------------------


def sample_references(rng: random.Random, count: int) -> list[str]:
    """References of random public cases: a random id, then the next public case."""
    from django.db.models import Max, Min

    from cetatea.cases.models import Case

    bounds = Case.objects.aggregate(lo=Min("id"), hi=Max("id"))
    refs: list[str] = []
    while len(refs) < count:
        start = rng.randint(bounds["lo"], bounds["hi"])
        ref = (
            Case.objects.filter(pk__gte=start, publication="public")
            .order_by("pk")
            .values_list("reference", flat=True)
            .first()
        )
        if ref:
            refs.append(ref)
    return refs


def measure_server(label: str, iterations: int, seed: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = timed_client()
    rng = random.Random(seed)
    refs = sample_references(rng, iterations + 20)
    paths = {
        "list": [LIST_PATH] * (iterations + 20),
        "get": [DETAIL_PATH.format(ref=r) for r in refs],
        "ext": [EXT_PATH] * (iterations + 20),
    }
    rows = []
    for key, request_label, targeted in ROWS:

        def call(path, where=key):
            response = client.get(path)
            if response.status_code != 200:
                body = response.content.decode(errors="replace")[:2000]
                raise SystemExit(f"{where}: {path} -> {response.status_code}\n{body}")
            return response

        for path in paths[key][:20]:  # warm-up
            call(path)
        measured = paths[key][20:]
        timings, returned = [], []
        for path in measured:
            response = call(path)
            timings.append(client.elapsed_ms)
            if key in ("list", "ext"):
                returned.append(len(json.loads(response.content)))
            else:
                returned.append(response.content.count(b"<request>"))
        counts = []
        for path in measured[:20]:
            with CaptureQueriesContext(connection) as ctx:
                call(path)
            counts.append(len(ctx.captured_queries))
        slowest = measured[max(range(len(measured)), key=timings.__getitem__)]
        with CaptureQueriesContext(connection) as ctx:
            response = call(slowest)
        statements = [{"sql": q["sql"], "plan": explain(q["sql"])} for q in ctx.captured_queries]
        timings_sorted = sorted(timings)
        p95 = percentile(timings_sorted, 0.95)
        if key in ("list", "ext"):
            shown = f"{statistics.median(returned):.0f} requests, {len(response.content):,} B"
        else:
            shown = f"1 request, {len(response.content):,} B"
        row = {
            "request": key,
            "request_label": request_label,
            "median_ms": round(statistics.median(timings), 3),
            "p95_ms": round(p95, 3),
            "p99_ms": round(percentile(timings_sorted, 0.99), 3),
            "mean_ms": round(statistics.fmean(timings), 3),
            "max_ms": round(timings_sorted[-1], 3),
            "queries_min": min(counts),
            "queries_max": max(counts),
            "returned": shown,
            "calls": len(timings),
            "target_ms": TARGET_MS if targeted else None,
            "ok": p95 < TARGET_MS or not targeted,
            "slowest_path": slowest,
            "slowest_statements": statements,
        }
        rows.append(row)
        print(
            f"{label:22} {key:5} median {row['median_ms']:7.1f}  p95 {p95:7.1f}  "
            f"p99 {row['p99_ms']:7.1f} ms  SQL {_queries(row)}  {shown}",
            flush=True,
        )
    return {"label": label, "rows": rows}


# --- child: load run ----------------------------------------------------------------------


LUA_COMMON = r"""
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  non2xx = 0
  first_bad = 0
  n = 0
  math.randomseed(1000003 * (id + 1) + %(seed)d)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == 0 then first_bad = status end
  end
end

function done(summary, latency, requests)
  local bad, first = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
    if first == 0 then first = t:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "bytes": %%d, "non_2xx": %%d, ' ..
    '"first_bad_status": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d, "mean_us": %%.1f, "stdev_us": %%.1f, "max_us": %%d, ' ..
    '"p50_us": %%d, "p75_us": %%d, "p90_us": %%d, "p99_us": %%d, "p999_us": %%d}\n',
    summary.requests, summary.duration, summary.bytes, bad, first,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
"""


def _lua_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_get_list() -> str:
    return f"""
local path = {_lua_str(LIST_PATH)}
function request()
  return wrk.format("GET", path)
end
"""


def lua_get_detail(refs: list[str]) -> str:
    table = ",\n".join(_lua_str(DETAIL_PATH.format(ref=r)) for r in refs)
    return f"""
local paths = {{
{table}
}}
function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def lua_post(api_key: str, codes: list[str], points: list[tuple[float, float]], run: str) -> str:
    codes_lua = ", ".join(_lua_str(c) for c in codes)
    points_lua = ",\n".join(f'{{"{lat:.6f}", "{lon:.6f}"}}' for lat, lon in points)
    return f"""
local path = {_lua_str(POST_PATH)}
local key = {_lua_str(api_key)}
local run = {_lua_str(run)}
local codes = {{ {codes_lua} }}
local points = {{
{points_lua}
}}
local headers = {{ ["Content-Type"] = "application/x-www-form-urlencoded" }}
function request()
  n = n + 1
  local p = points[math.random(#points)]
  local body = "api_key=" .. key ..
    "&service_code=" .. codes[math.random(#codes)] ..
    "&lat=" .. p[1] .. "&long=" .. p[2] ..
    "&description=Groapa+adanca+in+carosabil%2C+test+" .. run .. "-" .. id .. "-" .. n ..
    "&first_name=Ana&last_name=Pop" ..
    "&account_id=bench-" .. run .. "-" .. id .. "-" .. n
  return wrk.format("POST", path, headers, body)
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("wrk is not installed: apt-get install wrk (as root), then run again")
    print("installing wrk with apt-get", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    ok = subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, check=False)  # noqa: S603,S607
    if ok.returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=False)  # noqa: S603,S607
        subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, check=True)  # noqa: S603,S607
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ)
    env.update({"CETATEA_DEBUG": "false", "CETATEA_LOG_LEVEL": "WARNING"})
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "cetatea.wsgi:application",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "--log-level",
        "warning",
        "--error-logfile",
        str(log),
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/open311/v2/discovery.json", timeout=5) as r:  # noqa: S310
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"gunicorn did not start; see {log}:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)
    return proc, base


def run_wrk(wrk: str, base: str, script: str, duration: float, args) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(LUA_COMMON % {"seed": args.seed} + script)
        path = Path(handle.name)
    try:
        cmd = [
            wrk,
            "--threads",
            str(args.threads),
            "--connections",
            str(args.connections),
            "--duration",
            f"{duration:g}s",
            "--timeout",
            "10s",
            "--script",
            str(path),
            base + "/",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    finally:
        path.unlink(missing_ok=True)
    match = re.search(r"^WRKJSON (\{.*\})$", proc.stdout, re.M)
    if proc.returncode != 0 or match is None:
        raise SystemExit(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    data = json.loads(match.group(1))
    data["output"] = proc.stdout.split("WRKJSON")[0].strip()
    return data


def _load_row(key: str, label: str, data: dict) -> dict:
    seconds = data["duration_us"] / 1e6
    socket_errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
    return {
        "request": key,
        "request_label": label,
        "duration_s": round(seconds, 2),
        "requests": data["requests"],
        "rps": round(data["requests"] / seconds, 1),
        "mean_ms": round(data["mean_us"] / 1000, 2),
        "stdev_ms": round(data["stdev_us"] / 1000, 2),
        "p50_ms": data["p50_us"] / 1000,
        "p75_ms": data["p75_us"] / 1000,
        "p90_ms": data["p90_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "p999_ms": data["p999_us"] / 1000,
        "max_ms": data["max_us"] / 1000,
        "non_2xx": data["non_2xx"],
        "first_bad_status": data["first_bad_status"] or None,
        "socket_errors": socket_errors,
        "errors": {k: data[k] for k in ("connect", "read", "write", "status", "timeout")},
        "mb_per_s": round(data["bytes"] / seconds / 1e6, 2),
        "wrk_output": data["output"],
    }


def post_inputs(rng: random.Random, count: int) -> tuple[list[str], list[tuple[float, float]]]:
    """Category codes a citizen reports on the map with no required question, and points
    in the city (where ``seed_scale`` puts reports)."""
    from cetatea.catalog.models import Category
    from cetatea.people.management.commands.seed_scale import DESK_CATEGORIES, city_point

    codes = list(
        Category.objects.filter(is_active=True, on_map=True)
        .exclude(code__in=DESK_CATEGORIES)
        .exclude(questions__required=True)
        .order_by("code")
        .values_list("code", flat=True)
    )
    return codes, [city_point(rng) for _ in range(count)]


def remove_load_cases(client_id: int, cells_before: int) -> dict:
    """Take the cases the POST load filed off the map's cells, then delete them, their
    submissions and the client (what hangs off a case goes with it)."""
    from django.db import transaction

    from cetatea.cases import maprollup
    from cetatea.cases.choices import Publication
    from cetatea.cases.models import Case, Interaction, MapCell
    from cetatea.open311.models import ApiClient, ApiSubmission, ApiUpdate
    from cetatea.portal.models import Subscription

    with transaction.atomic():
        filed = Case.objects.filter(channel="open311", open311__client_id=client_id)
        ids = list(filed.values_list("pk", flat=True))
        for case in Case.objects.filter(pk__in=filed.values("pk")).iterator():
            with maprollup.track(case):
                case.publication = Publication.HIDDEN
        empty_cells, _ = MapCell.objects.filter(pk__gt=cells_before, n=0).delete()
        ApiUpdate.objects.filter(client_id=client_id).delete()
        Interaction.objects.filter(case__in=filed.values("pk")).delete()
        Subscription.objects.filter(case__in=filed.values("pk")).delete()
        Case.objects.filter(pk__in=filed.values("pk")).delete()
        ApiSubmission.objects.filter(client_id=client_id).delete()
        ApiClient.objects.filter(pk=client_id).delete()
    return {"cases_deleted": len(ids), "empty_map_cells_deleted": empty_cells}


def load_run(args, refs: list[str]) -> dict:
    from django.db import connection
    from django.db.models import Max
    from django_tasks_db.models import DBTaskResult

    from cetatea.cases.models import Case, MapCell
    from cetatea.open311.models import ApiClient

    wrk = ensure_wrk()
    version = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    rng = random.Random(args.seed + 311)
    codes, points = post_inputs(rng, 2000)
    client = ApiClient(name=LOAD_CLIENT_NAME, contact_email="bench@example.org")
    api_key = client.new_key()
    client.save()
    cases_before = Case.objects.count()
    cells_before = MapCell.objects.aggregate(m=Max("pk"))["m"] or 0
    started = dt.datetime.now(dt.UTC)
    connection.close()  # no read transaction of ours open while the server writes
    log = Path(tempfile.mkstemp(prefix="bench-gunicorn-", suffix=".log")[1])
    server, base = start_server(args.workers, log)
    rows, cleanup = [], None
    run = uuid.uuid4().hex[:8]
    scripts = {
        "list": lua_get_list(),
        "get": lua_get_detail(refs),
        "post": lua_post(api_key, codes, points, run),
    }
    try:
        for key, label in LOAD_ROWS:
            if args.warmup and key != "post":  # the workers' first requests: not counted
                run_wrk(wrk, base, scripts[key], args.warmup, args)
            data = run_wrk(wrk, base, scripts[key], args.duration, args)
            row = _load_row(key, label, data)
            rows.append(row)
            print(
                f"load {key:5} {row['requests']:7,} requests  {row['rps']:7.1f} req/s  "
                f"p50 {row['p50_ms']:.1f}  p90 {row['p90_ms']:.1f}  p99 {row['p99_ms']:.1f}  "
                f"max {row['max_ms']:.1f} ms  non-2xx {row['non_2xx']}  "
                f"socket errors {row['socket_errors']}",
                flush=True,
            )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        filed = Case.objects.filter(channel="open311", open311__client_id=client.pk).count()
        t0 = time.perf_counter()
        cleanup = remove_load_cases(client.pk, cells_before)
        cleanup["seconds"] = round(time.perf_counter() - t0, 1)
        tasks = DBTaskResult.objects.filter(enqueued_at__gte=started)
        cleanup["tasks_enqueued"] = tasks.count()
        tasks.delete()
        cleanup["cases_filed"] = filed
        cleanup["cases_before"] = cases_before
        cleanup["cases_after"] = Case.objects.count()
        cleanup["map_cells_check"] = list(rollup_check())
        print(f"load cleanup: {cleanup}", flush=True)
    server_log = log.read_text()[-5000:]
    log.unlink(missing_ok=True)
    post = next(r for r in rows if r["request"] == "post")
    errors = sum(r["non_2xx"] + r["socket_errors"] for r in rows)
    problems = []
    if errors:
        problems.append(f"{errors} errors (non-2xx or socket)")
    if cleanup["cases_filed"] < post["requests"]:
        problems.append(f"{post['requests']} POSTs filed only {cleanup['cases_filed']} cases")
    if cleanup["cases_after"] != cleanup["cases_before"]:
        problems.append("the cases the POST load filed were not all deleted")
    if cleanup["map_cells_check"][0] != cleanup["map_cells_check"][1]:
        problems.append(f"map cells no longer match the cases: {cleanup['map_cells_check']}")
    result = {
        "tool": version.stdout.splitlines()[0] if version.stdout else "wrk",
        "server": f"gunicorn {gunicorn_version()}, {args.workers} sync workers, "
        "CETATEA_DEBUG=false",
        "threads": args.threads,
        "connections": args.connections,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "rows": rows,
        "cleanup": cleanup,
        "server_log_tail": server_log,
        "problems": problems,
        "ok": not problems,
    }
    if problems:
        print(f"load run problems: {problems}\n{server_log}", flush=True)
    return result


def gunicorn_version() -> str:
    import gunicorn

    return gunicorn.__version__


# --- child ----------------------------------------------------------------------------------


def child(args) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cetatea.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    override_settings(RATELIMIT_ENABLE=False).enable()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_catalog", stdout=io.StringIO())
    seeding = prepare_cases(args)
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute("select sqlite_version()" if vendor == "sqlite" else "show server_version")
        version = cursor.fetchone()[0]
    profile = data_profile()
    print(f"data: {profile}", flush=True)
    code = {}
    for name in ("open311/selectors.py", "open311/views.py", "cases/models.py"):
        name = f"cetatea/{name}"
        code[name] = hashlib.sha1((ROOT / name).read_bytes()).hexdigest()[:12]  # noqa: S324
    result = {
        "label": args.child,
        "vendor": vendor,
        "version": version,
        "data": profile,
        "seeding": seeding,
        "code": code,
        "server": [],
        "loadavg_start": os.getloadavg(),
    }
    if vendor == "sqlite" and not args.skip_measure:
        # As on a fresh install: no planner statistics (Django never runs ANALYZE).
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cursor.fetchone():
                cursor.execute("DELETE FROM sqlite_stat1")
                cursor.execute("ANALYZE sqlite_schema")
        connection.close()
        result["server"].append(
            measure_server(f"{args.child} (no ANALYZE)", args.iterations, args.seed)
        )
    if vendor != "sqlite" or not args.skip_analyzed:
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            # PostgreSQL: what autovacuum does after a bulk load.
            cursor.execute("ANALYZE" if vendor == "sqlite" else "VACUUM (ANALYZE) cases_case")
            if vendor != "sqlite":
                cursor.execute("ANALYZE")
        result["analyze_seconds"] = round(time.perf_counter() - t0, 1)
        connection.close()
        if not args.skip_measure:
            label = f"{args.child} (ANALYZE)" if vendor == "sqlite" else args.child
            result["server"].append(measure_server(label, args.iterations, args.seed))
    if args.load:
        refs = sample_references(random.Random(args.seed + 1), 2000)
        result["load"] = load_run(args, refs)
    result["loadavg_end"] = os.getloadavg()
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    if args.load and not result["load"]["ok"]:
        raise SystemExit(f"load run: {result['load']['problems']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=500, help="calls per row")
    parser.add_argument("--db", choices=["all", "sqlite", "postgres"], default="all")
    parser.add_argument("--sqlite-path", default=str(SQLITE_PATH), help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--load", action="store_true", help="also the load run (gunicorn+wrk)")
    parser.add_argument("--duration", type=float, default=30, help="seconds per load row")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds before")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--skip-measure", action="store_true", help="the load run only")
    parser.add_argument(
        "--skip-analyzed", action="store_true", help="SQLite: measure without ANALYZE only"
    )
    parser.add_argument("--results", default=str(RESULTS), help="where to write the JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
