"""Load test of the production stack (issue 11): ``python bench/load.py``.

The mixed traffic of a city of 300,000 at ten times its peak hour, over loopback, with a
real load tool (locust, headless, constant arrival rate per kind of user) against the
production configuration started by ``bench/prod.py``: nginx with
``deploy/nginx/cetatea.conf``, gunicorn with ``deploy/gunicorn.conf.py``, the background
worker, ``CETATEA_DEBUG=false``, PostgreSQL.

1. **data** (once, then reused): a PostgreSQL database (``bench_load``, or ``--db-url``)
   is migrated, the Alba Iulia catalogue loaded and brought to ``--cases`` cases with
   ``seed_scale`` (as ``bench/map.py``), then ``ANALYZE``. Each run (re)makes the staff
   accounts (operators and department staff of the busiest departments, a password of
   the run, TOTP devices with known keys when django-otp's TOTP is installed), an Open311
   client with a new api key, and the plan for locust (references, categories, points,
   a 4032 x 3024 phone JPEG of about 3 MB with EXIF);
2. **run**: the stack starts, locust runs ``bench/locustfile.py`` for ``--duration``
   seconds (the traffic model: ``PEAK_HOUR`` below, times ``--scale``), the machine's
   CPU is sampled meanwhile;
3. **checks**: zero failures (every answer the expected 2xx/3xx), every report and Open311
   request the server accepted is in the database, their photos processed by the worker
   (waits up to ``--drain`` seconds), no error in the server's log, and the rate reached
   is at least 95 % of the target.

p50/p95/p99 per kind of request and overall, throughput and CPU are printed (Markdown) and
written to ``bench/results/load-latest.json``; the exit status is 1 when a check fails.

    python bench/load.py                                  # 10 minutes at 10 x peak
    python bench/load.py --db-url postgres://postgres@127.0.0.1:5432/h_load --duration 300
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import platform
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prod import ROOT, ProductionStack, nginx_available  # noqa: E402
from run import DEFAULT_PG_ADMIN_URL, _with_db  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "load-latest.json"
PHOTO = ROOT / "var" / "bench-load-photo.jpg"
DEFAULT_DB = "bench_load"
CLIENT_NAME = "bench/load.py"
STAFF_PREFIX = "load-"

# The peak hour of a city of 300,000 (docs/benchmarks.md, "Load test (issue 11)"): what
# happens in that hour, by kind of user. Each is multiplied by --scale.
PEAK_HOUR = {
    # citizens on the map: the page, three moves of the map, one case page (5 requests)
    "citizen": 720,
    # reports with a photo through the public form: form, POST, the page after (3 requests)
    "reporter": 24,
    # Open311 calls (apps, dashboards); the split is OPEN311_WEIGHTS
    "open311": 216,
    # call-centre operators looking at the console queue (half the time opening a case)
    "operator": 800,
    # department staff looking at their department's queue (same)
    "department": 1200,
}
OPEN311_WEIGHTS = {"services": 30, "list": 120, "get": 60, "post": 6}
STAFF_OPEN_CASE = 0.5
# Seconds between two tasks of one simulated user (users = rate x period): long enough for
# a task to end within its period, so the arrival rate holds.
PERIOD_S = {"citizen": 5, "reporter": 30, "open311": 5, "operator": 4.5, "department": 4.5}
FILL_SECONDS = 4  # a person filling the report form (the form refuses under 3 s)
LOAD_CLASSES = {
    "citizen": "Citizen",
    "reporter": "Reporter",
    "open311": "Open311App",
    "operator": "Operator",
    "department": "DepartmentStaff",
}


def traffic(scale: float) -> dict:
    """Users and tasks per second per user class at ``scale`` x the peak hour."""
    users, rates, per_s = {}, {}, {}
    for kind, per_hour in PEAK_HOUR.items():
        rate = per_hour * scale / 3600
        users[kind] = max(1, math.ceil(rate * PERIOD_S[kind]))
        rates[kind] = rate / users[kind]
        per_s[kind] = rate
    return {"users": users, "rates": rates, "tasks_per_s": per_s}


def expected_requests_per_s(scale: float) -> float:
    """Requests a second the model asks for (a visit is 5 requests, a report 3, a staff
    task 1 + STAFF_OPEN_CASE), logins aside."""
    t = traffic(scale)["tasks_per_s"]
    staff = (t["operator"] + t["department"]) * (1 + STAFF_OPEN_CASE)
    return t["citizen"] * 5 + t["reporter"] * 3 + t["open311"] + staff


# --- parent -------------------------------------------------------------------------------


def database_url(explicit: str | None) -> str:
    import psycopg

    target = explicit or os.environ.get("BENCH_LOAD_DATABASE_URL")
    target = target or _with_db(DEFAULT_PG_ADMIN_URL, DEFAULT_DB)
    try:
        with psycopg.connect(target, connect_timeout=3):
            return target
    except psycopg.OperationalError:
        pass
    name = target.rsplit("/", 1)[1]
    with psycopg.connect(_with_db(target, "postgres"), autocommit=True, connect_timeout=3) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return target


def child_env(db_url: str, extra: dict) -> dict:
    env = dict(os.environ)
    for key in ("CETATEA_TASKS_BACKEND", "REDIS_URL"):
        env.pop(key, None)
    env.update(
        {
            "DATABASE_URL": db_url,
            "DJANGO_SETTINGS_MODULE": "cetatea.settings",
            "CETATEA_LOG_LEVEL": "WARNING",
            "CETATEA_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
    )
    env.update(extra)
    return env


def run_child(step: str, env: dict, args, extra: list[str] = ()) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    cmd = [sys.executable, __file__, "--child", step, "--out", str(out), *extra]
    cmd += ["--cases", str(args.cases), "--seed", str(args.seed), "--scale", str(args.scale)]
    try:
        proc = subprocess.run(cmd, env=env, cwd=ROOT, check=False)  # noqa: S603
        if proc.returncode != 0:
            raise SystemExit(f"{step}: failed (exit {proc.returncode})")
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


class CpuSampler(threading.Thread):
    """The machine's CPU use (all cores, %) every ``every`` seconds, with psutil; and, given
    a stack, the CPU seconds of each of its processes at each tick (``stack_cpu``): a
    PostgreSQL backend closed meanwhile (``CONN_MAX_AGE`` is 60 s) then loses at most one
    tick of its CPU time."""

    def __init__(self, every: float = 5.0, stack=None, db_url: str = ""):
        super().__init__(daemon=True)
        self.every = every
        self.samples: list[float] = []
        self.halt = threading.Event()
        self.stack, self.db_url = stack, db_url
        self.seen: dict[int, float] = {}

    def tick(self) -> None:
        if self.stack is not None:
            for pid, seconds in stack_cpu(self.stack, self.db_url).items():
                self.seen[pid] = max(seconds, self.seen.get(pid, 0.0))

    def run(self) -> None:
        import psutil

        psutil.cpu_percent(None)
        while not self.halt.wait(self.every):
            self.samples.append(psutil.cpu_percent(None))
            self.tick()

    def summary(self) -> dict:
        s = sorted(self.samples) or [0.0]
        return {
            "mean_pct": round(sum(s) / len(s), 1),
            "p95_pct": round(s[min(len(s) - 1, int(0.95 * len(s)))], 1),
            "max_pct": round(s[-1], 1),
            "samples": len(self.samples),
        }


def stack_cpu(stack: ProductionStack, db_url: str) -> dict[int, float]:
    """CPU seconds (user + system) so far of each process of the stack: nginx, gunicorn and
    the worker with their children, and the PostgreSQL backends serving the database."""
    import psutil
    import psycopg

    pids = []
    for proc in (stack.nginx, stack.app, *stack.task_workers):
        if proc is not None and proc.poll() is None:
            try:
                parent = psutil.Process(proc.pid)
                pids += [parent.pid, *(c.pid for c in parent.children(recursive=True))]
            except psutil.NoSuchProcess:
                pass
    name = db_url.rsplit("/", 1)[1]
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    pids += [row[0] for row in rows]
    times = {}
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            times[pid] = t.user + t.system
        except psutil.Error:
            pass
    return times


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two ``stack_cpu`` readings (a process born meanwhile counts from
    zero; what a process used after its last reading is lost: a lower bound)."""
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


def read_stats(prefix: Path) -> list[dict]:
    rows = []
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            count = int(row["Request Count"])

            def ms(key, row=row):
                value = row.get(key, "N/A")
                return None if value in ("N/A", "") else float(value)

            rows.append(
                {
                    "type": row["Type"],
                    "name": row["Name"],
                    "requests": count,
                    "failures": int(row["Failure Count"]),
                    "rps": round(float(row["Requests/s"]), 2),
                    "p50_ms": ms("50%"),
                    "p95_ms": ms("95%"),
                    "p99_ms": ms("99%"),
                    "max_ms": ms("Max Response Time"),
                    "mean_ms": round(float(row["Average Response Time"]), 1),
                }
            )
    return rows


def read_failures(prefix: Path) -> list[dict]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def run_locust(base_url: str, plan_path: Path, accepted: Path, args, t: dict, out: Path):
    users = sum(t["users"].values())
    env = dict(os.environ)
    env.update({"CETATEA_LOAD_PLAN": str(plan_path), "CETATEA_LOAD_ACCEPTED": str(accepted)})
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--host",
        base_url,
        "-u",
        str(users),
        "-r",
        str(max(1, users // 5)),
        "--run-time",
        f"{args.duration}s",
        "--stop-timeout",
        "60",
        "--csv",
        str(out),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    print(f"locust: {users} users, {args.duration} s: {' '.join(cmd[3:])}", flush=True)
    return subprocess.run(cmd, env=env, cwd=ROOT, check=False)  # noqa: S603


def _fmt(value) -> str:
    return "–" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:.0f}"


def markdown(result: dict) -> str:
    lines = [
        "| request | requests | req/s | failures | p50 ms | p95 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in result["stats"]:
        name = "**all requests**" if r["name"] == "Aggregated" else f"{r['type']} {r['name']}"
        lines.append(
            f"| {name} | {r['requests']:,} | {r['rps']:.2f} | {r['failures']} | "
            f"{_fmt(r['p50_ms'])} | {_fmt(r['p95_ms'])} | {_fmt(r['p99_ms'])} | "
            f"{_fmt(r['max_ms'])} |"
        )
    return "\n".join(lines)


def parent(args) -> None:
    if not nginx_available():
        subprocess.run(["bash", str(ROOT / "scripts" / "nginx-deps.sh")], check=False)  # noqa: S603,S607
        if not nginx_available():
            raise SystemExit("nginx is missing: run scripts/nginx-deps.sh as root")
    started_at = time.perf_counter()
    db_url = database_url(args.db_url)
    extra = {}
    if args.no_2fa:
        extra["CETATEA_2FA_REQUIRED"] = "false"
    if args.redis:
        # The cache of a production site (deploy/env.example): rate limits and cached
        # figures shared by the gunicorn workers. Emptied first, so that the per-address
        # counts of a previous run (within the hour) do not limit this one.
        import redis

        try:
            redis.Redis.from_url(args.redis).flushdb()
        except redis.RedisError as error:
            message = f"Redis at {args.redis} does not answer ({error}); try --no-redis"
            raise SystemExit(message) from None
        extra["REDIS_URL"] = args.redis
    env = child_env(db_url, extra)
    t = traffic(args.scale)
    work = Path(tempfile.mkdtemp(prefix="cetatea-load-"))
    plan_path, accepted = work / "plan.json", work / "accepted.json"
    plan = run_child("prepare", env, args, ["--plan", str(plan_path)])
    prepare_s = round(time.perf_counter() - started_at, 1)
    print(f"prepared in {prepare_s} s: {plan['data']}", flush=True)
    stack_env = {k: v for k, v in extra.items()}
    with ProductionStack(
        db_url=db_url, workers=args.workers, env=stack_env, migrate=False
    ) as stack:
        warm = run_child("warm", {**env, "CETATEA_LOAD_BASE": stack.base_url}, args)
        print(f"warm-up: {warm}", flush=True)
        sampler = CpuSampler(stack=stack, db_url=db_url)
        cpu_before = stack_cpu(stack, db_url)
        sampler.start()
        own_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        locust = run_locust(stack.base_url, plan_path, accepted, args, t, work / "locust")
        elapsed = time.perf_counter() - t0
        own_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        sampler.halt.set()
        sampler.join()
        sampler.tick()
        stack_seconds = cpu_used(cpu_before, sampler.seen)
        check = run_child(
            "verify",
            env,
            args,
            ["--plan", str(plan_path), "--accepted", str(accepted), "--drain", str(args.drain)],
        )
        server_log = stack.logs(20000)
    stats = read_stats(work / "locust")
    failures = read_failures(work / "locust")
    total = next((r for r in stats if r["name"] == "Aggregated"), None)
    target_rps = expected_requests_per_s(args.scale)
    problems = list(check["problems"])
    if total is None or total["requests"] == 0:
        problems.append("locust made no request")
    elif total["failures"]:
        problems.append(f"{total['failures']} failed requests")
    if failures:
        problems.append(f"failures: {failures[:10]}")
    error_lines = [
        line
        for line in server_log.splitlines()
        if "Traceback" in line or " ERROR " in line or "[error]" in line or "[crit]" in line
    ]
    if error_lines:
        problems.append(f"errors in the server's logs: {error_lines[:10]}")
    if total and total["rps"] < 0.95 * target_rps:
        problems.append(f"{total['rps']:.1f} req/s reached, the model asks {target_rps:.1f}")
    commit = subprocess.run(  # noqa: S603
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    result = {
        "meta": {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "commit": commit,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "locust": _version("locust"),
            "gunicorn_workers": args.workers or "deploy/gunicorn.conf.py default (2 x CPUs + 1)",
            "duration_s": args.duration,
            "elapsed_s": round(elapsed, 1),
            "scale": args.scale,
            "prepare_s": prepare_s,
            "total_s": round(time.perf_counter() - started_at, 1),
            "locust_exit": locust.returncode,
            "two_factor": plan["two_factor"],
        },
        "model": {
            "peak_hour": PEAK_HOUR,
            "open311_weights": OPEN311_WEIGHTS,
            "staff_open_case": STAFF_OPEN_CASE,
            "traffic": t,
            "target_rps": round(target_rps, 2),
        },
        "data": plan["data"],
        "cpu": {
            **sampler.summary(),
            "stack_cpu_s": round(stack_seconds, 1),
            "stack_share_of_machine_pct": round(
                100 * stack_seconds / (elapsed * (os.cpu_count() or 1)), 1
            ),
            "locust_cpu_s": round(
                own_after.ru_utime + own_after.ru_stime - own_before.ru_utime - own_before.ru_stime,
                1,
            ),
            "stack_cpu_ms_per_request": (
                round(1000 * stack_seconds / total["requests"], 1)
                if total and total["requests"]
                else None
            ),
            "capacity_rps_estimate": (
                round((os.cpu_count() or 1) * total["requests"] / stack_seconds, 1)
                if total and stack_seconds
                else None
            ),
        },
        "loadavg_end": os.getloadavg(),
        "stats": stats,
        "check": check,
        "problems": problems,
        "ok": not problems,
    }
    results = Path(args.results)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    print()
    print(markdown(result))
    cpu = result["cpu"]
    print(
        f"\n{result['meta']['elapsed_s']:.0f} s, target {target_rps:.1f} req/s, "
        f"reached {total['rps'] if total else 0:.1f}; CPU (all {os.cpu_count()} cores) mean "
        f"{cpu['mean_pct']} %, p95 {cpu['p95_pct']} %, max {cpu['max_pct']} %; "
        f"load average at the end {result['loadavg_end']}"
    )
    print(
        f"the stack (nginx, gunicorn, worker, PostgreSQL backends) used {cpu['stack_cpu_s']} "
        f"CPU s ({cpu['stack_share_of_machine_pct']} % of the machine), "
        f"{cpu['stack_cpu_ms_per_request']} ms a request: all {os.cpu_count()} cores would "
        f"serve about {cpu['capacity_rps_estimate']} req/s of this mix; locust used "
        f"{cpu['locust_cpu_s']} CPU s"
    )
    print(f"checks: {check['summary']}")
    print(f"Results written to {results}")
    if problems:
        print("PROBLEMS:\n- " + "\n- ".join(str(p) for p in problems))
        raise SystemExit(1)


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


# --- children -------------------------------------------------------------------------------


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare(args) -> dict:
    """Data (once), then the accounts, the api key and the plan of this run."""
    import io

    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count, Max
    from map import phone_photo, prepare_cases
    from open311 import sample_references

    from cetatea.cases.choices import OPEN_STATUSES
    from cetatea.cases.models import Case
    from cetatea.catalog.models import Category, Department, StaffProfile
    from cetatea.core import roles
    from cetatea.open311.models import ApiClient
    from cetatea.people.management.commands.seed_scale import DESK_CATEGORIES, city_point

    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_catalog", stdout=io.StringIO())
    seeding = prepare_cases(argparse.Namespace(cases=args.cases, batch=10_000, seed=args.seed))
    with connection.cursor() as cursor:  # planner statistics, as autovacuum keeps them
        if seeding["seeded"]:
            cursor.execute("VACUUM (ANALYZE) cases_case")
        cursor.execute("ANALYZE")
    rng = random.Random(args.seed)
    t = traffic(args.scale)
    password = secrets.token_urlsafe(16)
    busiest = list(
        Case.objects.filter(status__in=OPEN_STATUSES, department__isnull=False)
        .values("department")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("department", flat=True)[:5]
    )
    departments = list(Department.objects.filter(pk__in=busiest))
    totp = "django_otp.plugins.otp_totp" in settings.INSTALLED_APPS
    totp_keys = {}

    def account(name: str, role: str, department=None) -> str:
        user, _ = User.objects.get_or_create(username=name)
        user.set_password(password)
        user.is_active = True
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        StaffProfile.objects.update_or_create(user=user, defaults={"department": department})
        if totp:
            from django_otp.plugins.otp_totp.models import TOTPDevice

            TOTPDevice.objects.filter(user=user).delete()
            device = TOTPDevice.objects.create(user=user, name="load test", confirmed=True)
            totp_keys[name] = device.key
        return name

    operators = [
        account(f"{STAFF_PREFIX}operator-{i}", roles.OPERATOR)
        for i in range(t["users"]["operator"])
    ]
    department_staff = [
        account(
            f"{STAFF_PREFIX}department-{i}",
            roles.DEPARTMENT_STAFF,
            departments[i % len(departments)],
        )
        for i in range(t["users"]["department"])
    ]
    # One client for every run (its cases stay); a new key each run.
    client = ApiClient.objects.filter(name=CLIENT_NAME).first() or ApiClient(
        name=CLIENT_NAME, contact_email="bench@example.org"
    )
    api_key = client.new_key()
    client.is_active = True
    client.save()
    categories = list(
        Category.objects.filter(is_active=True, on_map=True)
        .exclude(code__in=DESK_CATEGORIES)
        .exclude(questions__required=True)
        .order_by("code")
        .values_list("code", flat=True)
    )
    if not PHOTO.exists():
        PHOTO.parent.mkdir(parents=True, exist_ok=True)
        PHOTO.write_bytes(phone_photo(args.seed)[0])
    plan = {
        "run": uuid.uuid4().hex[:8],
        "password": password,
        "operators": operators,
        "department_staff": department_staff,
        "totp_keys": totp_keys,
        "api_key": api_key,
        "report_categories": categories,
        "open311_codes": categories,
        "refs": sample_references(rng, 1000),
        "points": [city_point(rng) for _ in range(2000)],
        "photo": str(PHOTO),
        "fill_seconds": FILL_SECONDS,
        "staff_open_case": STAFF_OPEN_CASE,
        "open311_weights": OPEN311_WEIGHTS,
        "users": t["users"],
        "rates": t["rates"],
        "max_case_id": Case.objects.aggregate(m=Max("id"))["m"] or 0,
        "api_client_id": client.pk,
    }
    Path(args.plan).write_text(json.dumps(plan))
    return {
        "data": {
            "cases": Case.objects.count(),
            "public": Case.objects.filter(publication="public").count(),
            "departments": [d.name_ro for d in departments],
            "seeding": seeding,
            "photo_bytes": PHOTO.stat().st_size,
        },
        "two_factor": (
            f"TOTP devices made (django-otp); CETATEA_2FA_REQUIRED="
            f"{getattr(settings, 'CETATEA_2FA_REQUIRED', 'not a setting yet')}"
            if totp
            else "django-otp's TOTP not installed: password login only"
        ),
    }


def warm() -> dict:
    """A few requests to each gunicorn worker before the clock starts (imports, templates)."""
    import urllib.request

    base = os.environ["CETATEA_LOAD_BASE"]
    statuses = []
    for _ in range(8):
        for path in ("/", "/report/", "/open311/v2/services.json", "/login/"):
            with urllib.request.urlopen(base + path, timeout=30) as r:  # noqa: S310 - loopback
                statuses.append(r.status)
    return {"requests": len(statuses), "non_200": sum(s != 200 for s in statuses)}


def verify(args) -> dict:
    """Every accepted report and Open311 request is a case; their photos get processed."""
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from cetatea.cases.models import Case, Photo

    plan = json.loads(Path(args.plan).read_text())
    path = Path(args.accepted)
    accepted = json.loads(path.read_text()) if path.exists() else {"report": [], "open311": []}
    problems = []
    reports = accepted["report"]
    found_reports = set(
        Case.objects.filter(reference__in=reports).values_list("reference", flat=True)
    )
    posted = accepted["open311"]
    found_posts = set(
        Case.objects.filter(reference__in=posted).values_list("reference", flat=True)
    ) | set(
        str(pk)
        for pk in Case.objects.filter(pk__in=[p for p in posted if str(p).isdigit()]).values_list(
            "pk", flat=True
        )
    )
    new_cases = Case.objects.filter(pk__gt=plan["max_case_id"])
    photos = Photo.objects.filter(case__reference__in=reports)
    deadline = time.monotonic() + args.drain
    while photos.filter(status="processing").exists() and time.monotonic() < deadline:
        time.sleep(2)
    photo_status = {
        row["status"]: row["n"] for row in photos.values("status").annotate(n=Count("id"))
    }
    failed_tasks = DBTaskResult.objects.filter(status="FAILED").count()
    if len(found_reports) != len(set(reports)):
        problems.append(
            f"reports accepted {len(set(reports))}, in the database {len(found_reports)}"
        )
    if len(found_posts) != len(set(posted)):
        problems.append(f"Open311 requests accepted {len(set(posted))}, found {len(found_posts)}")
    if new_cases.count() != len(set(reports)) + len(set(posted)):
        problems.append(
            f"{new_cases.count()} new cases, {len(set(reports)) + len(set(posted))} accepted"
        )
    if photo_status.get("processing"):
        problems.append(f"{photo_status['processing']} photos still processing after the drain")
    if sum(photo_status.values()) < len(found_reports):
        problems.append(f"{len(found_reports)} reports but {sum(photo_status.values())} photos")
    summary = {
        "reports_accepted": len(reports),
        "reports_found": len(found_reports),
        "open311_accepted": len(posted),
        "open311_found": len(found_posts),
        "new_cases": new_cases.count(),
        "photos": photo_status,
        "failed_tasks_in_db": failed_tasks,
    }
    return {"summary": summary, "problems": problems}


def child(args) -> None:
    _setup_django()
    if args.child == "prepare":
        out = prepare(args)
    elif args.child == "warm":
        out = warm()
    else:
        out = verify(args)
    Path(args.out).write_text(json.dumps(out, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", help="PostgreSQL URL (default: .../bench_load)")
    parser.add_argument("--cases", type=int, default=200_000, help="cases in the database")
    parser.add_argument("--duration", type=int, default=600, help="seconds of load")
    parser.add_argument("--scale", type=float, default=10.0, help="times the peak hour")
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (default: the conf's)"
    )
    parser.add_argument("--drain", type=int, default=180, help="seconds to wait for photos")
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/14",
        help="the cache (REDIS_URL) of the stack; this Redis database is emptied first",
    )
    parser.add_argument("--no-redis", dest="redis", action="store_const", const="")
    parser.add_argument("--no-2fa", action="store_true", help="CETATEA_2FA_REQUIRED=false")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--results", default=str(RESULTS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--accepted", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
