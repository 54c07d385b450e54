"""Fault test: PostgreSQL restarted in the middle of traffic (``python bench/faults.py``).

Issue 11 asks that while the database restarts, requests fail cleanly and then recover
with no accepted report lost. This run checks it against the production stack
(``bench/prod.py``: nginx, gunicorn with 2 sync workers, ``db_worker``) on its own
PostgreSQL database (``--db-url``, default ``h_faults``, created when missing):

1. a small catalogue (one department, area and map category) and an Open311 key;
2. traffic for ``--before`` seconds, then ``pg_ctlcluster 15 main restart`` (the shared
   server: a few seconds; never run by CI or pytest), then ``--after`` seconds more:

   * ``--reporters`` citizens post the report form with a photo (``POST /report/``; a
     302 to the case's page is "saved", its reference is kept). They go to gunicorn
     directly with an ``X-Real-IP`` each, because through nginx all come from 127.0.0.1
     and the form's rate limit (20 an hour per address) would stop them;
   * one Open311 client posts requests (``POST /open311/v2/requests.json``; 201 is
     "saved"), also to gunicorn with an ``X-Real-IP`` each (Open311's rate limit);
   * ``--readers`` visitors read pages through nginx (the map's list, a case, Open311
     services);

3. then it waits for the worker to process the photos, and checks in the database:
   every saved reference is there; no case of the run lacks its photo row, no photo row
   lacks its original file, no original file lacks its row; how many photos are
   processed. Every answer during the outage must be a 503 with ``Retry-After`` (HTML
   without a traceback, or the Open311 error document); any 500 fails the run.

Figures (requests, failures during the outage, how long requests failed, how long after
PostgreSQL was back the first request succeeded) are printed and written to
``bench/results/faults-latest.json``.

    python bench/faults.py
    python bench/faults.py --db-url postgres://postgres@127.0.0.1:5432/h_faults --after 20
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prod import ProductionStack  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "faults-latest.json"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/h_faults"
PG_RESTART = ["pg_ctlcluster", "15", "main", "restart"]

SETUP = """
import json
from cetatea.catalog.models import Area, Category, Department
from cetatea.open311.models import ApiClient
dept, _ = Department.objects.get_or_create(
    code="faults", defaults={"name_ro": "Teste", "name_en": "Tests"}
)
ring = [[23.56, 46.06], [23.58, 46.06], [23.58, 46.08], [23.56, 46.08], [23.56, 46.06]]
Area.objects.get_or_create(
    code="faults",
    defaults={
        "name_ro": "Cetate", "name_en": "Citadel",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    },
)
Category.objects.update_or_create(
    code="FAULTS",
    defaults={
        "name_ro": "Gropi (test)", "name_en": "Potholes (test)", "department": dept,
        "target_hours": 240, "on_map": True, "is_active": True,
        "confirm_by_email": False, "requires_photo": False,
    },
)
app = ApiClient(name="bench-faults")
key = app.new_key()
app.save()
print(json.dumps({"api_key": key}))
"""

CHECK = """
import json, os
from pathlib import Path
from django.conf import settings
from django_tasks_db.models import DBTaskResult
from cetatea.cases.models import Case, Photo
from cetatea.cases.photos import private_storage
data = json.loads(Path(os.environ["FAULTS_INPUT"]).read_text())
run = data["run"]
saved = set(data["saved"])
found = set(Case.objects.filter(reference__in=saved).values_list("reference", flat=True))
cases = list(Case.objects.filter(title__startswith=run).values_list("pk", "reference", "channel"))
photo_rows = list(
    Photo.objects.filter(case__title__startswith=run).values_list("case_id", "original", "status")
)
per_case = {}
for case_id, _name, _status in photo_rows:
    per_case[case_id] = per_case.get(case_id, 0) + 1
root = Path(settings.CETATEA_PRIVATE_MEDIA_ROOT)
on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
referenced = {name for _c, name, _s in photo_rows}
statuses = {}
for _c, _n, status in photo_rows:
    statuses[status] = statuses.get(status, 0) + 1
print(json.dumps({
    "saved_missing": sorted(saved - found),
    "cases_of_run": len(cases),
    "map_cases_without_photo": sorted(
        ref for pk, ref, ch in cases if ch == "map" and per_case.get(pk, 0) != 1
    ),
    "photo_rows_without_file": sorted(referenced - on_disk),
    "files_without_row": sorted(on_disk - referenced),
    "photo_status": statuses,
    "tasks_running": DBTaskResult.objects.running().count(),
    "tasks_ready": DBTaskResult.objects.ready().count(),
}))
"""


PENDING_TASKS = (
    "from django_tasks_db.models import DBTaskResult as T; "
    "print(T.objects.ready().count() + T.objects.running().count())"
)


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def photo_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (160, 120), os.urandom(160 * 120 * 3)).save(buffer, "JPEG")
    return buffer.getvalue()


class Recorder:
    """Every answer: (time, client kind, status, ok, clean)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows: list[tuple[float, str, int, bool, bool]] = []
        self.saved: list[str] = []
        self.bad: list[str] = []

    def add(self, kind: str, status: int, ok: bool, clean: bool = True, note: str = "") -> None:
        with self.lock:
            self.rows.append((time.monotonic(), kind, status, ok, clean))
            if not clean and len(self.bad) < 20:
                self.bad.append(f"{kind} {status} {note[:200]}")


def _clean_failure(response: requests.Response) -> bool:
    """A fault answered as the issue asks: 503 with Retry-After, no traceback."""
    body = response.text
    return (
        response.status_code == 503
        and bool(response.headers.get("Retry-After"))
        and "Traceback" not in body
        and "OperationalError" not in body
    )


def reporter(stack, rec: Recorder, stop: threading.Event, run: str, n: int, photo: bytes):
    session = requests.Session()
    form: dict | None = None
    fetched = 0.0
    i = 0
    while not stop.is_set():
        i += 1
        headers = {"X-Real-IP": f"10.{n}.{i // 250 % 256}.{i % 250 + 1}"}
        try:
            if form is None:
                response = session.get(f"{stack.app_url}/report/", headers=headers, timeout=30)
                if response.status_code != 200:
                    rec.add(
                        "report form",
                        response.status_code,
                        False,
                        _clean_failure(response),
                        response.text,
                    )
                    time.sleep(0.2)
                    continue
                rec.add("report form", 200, True)
                form = {
                    "csrfmiddlewaretoken": re.search(
                        r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text
                    ).group(1),
                    "stamp": re.search(r'name="stamp" value="([^"]+)"', response.text).group(1),
                }
                fetched = time.monotonic()
            wait = 3.5 - (time.monotonic() - fetched)  # the form's anti-bot minimum
            if wait > 0:
                time.sleep(wait)
            data = {
                **form,
                "category": "FAULTS",
                "latitude": f"{46.065 + random.random() * 0.01:.6f}",  # noqa: S311
                "longitude": f"{23.565 + random.random() * 0.01:.6f}",  # noqa: S311
                "title": f"{run} report {n}-{i}",
                "description": "Groapă în carosabil (test de avarie).",
                "submission_key": uuid.uuid4().hex,
            }
            response = session.post(
                f"{stack.app_url}/report/",
                data=data,
                files={"photos": ("groapa.jpg", photo, "image/jpeg")},
                headers={**headers, "Referer": f"{stack.app_url}/report/"},
                allow_redirects=False,
                timeout=30,
            )
        except requests.RequestException as exc:
            rec.add("report", 0, False, False, repr(exc))
            time.sleep(0.2)
            continue
        location = response.headers.get("Location", "")
        match = re.search(r"/cases/([^/]+)/", location)
        if response.status_code == 302 and match:
            rec.add("report", 302, True)
            with rec.lock:
                rec.saved.append(match.group(1))
        else:
            rec.add("report", response.status_code, False, _clean_failure(response), response.text)
            if response.status_code == 403:  # CSRF cookie lost: fetch the form again
                form = None
            time.sleep(0.2)


def open311_client(stack, rec: Recorder, stop: threading.Event, run: str, api_key: str):
    session = requests.Session()
    i = 0
    while not stop.is_set():
        i += 1
        try:
            response = session.post(
                f"{stack.app_url}/open311/v2/requests.json",
                headers={"X-Real-IP": f"10.200.{i // 250 % 256}.{i % 250 + 1}"},
                data={
                    "api_key": api_key,
                    "service_code": "FAULTS",
                    "lat": f"{46.065 + random.random() * 0.01:.6f}",  # noqa: S311
                    "long": f"{23.565 + random.random() * 0.01:.6f}",  # noqa: S311
                    "title": f"{run} open311 {i}",
                    "description": f"{run} open311 {i}: stâlp căzut",
                },
                timeout=30,
            )
        except requests.RequestException as exc:
            rec.add("open311 post", 0, False, False, repr(exc))
            time.sleep(0.2)
            continue
        if response.status_code == 201:
            rec.add("open311 post", 201, True)
            with rec.lock:
                rec.saved.append(response.json()[0]["service_request_id"])
        else:
            clean = _clean_failure(response) and response.headers.get(
                "Content-Type", ""
            ).startswith("application/json")
            rec.add("open311 post", response.status_code, False, clean, response.text)
            time.sleep(0.2)


def reader(stack, rec: Recorder, stop: threading.Event):
    session = requests.Session()
    while not stop.is_set():
        with rec.lock:
            some = rec.saved[-1] if rec.saved else None
        for kind, path in (
            ("page: /cases/", "/cases/"),
            ("page: a case", f"/cases/{some}/" if some else "/cases/"),
            ("open311 services", "/open311/v2/services.xml"),
        ):
            try:
                response = session.get(f"{stack.base_url}{path}", timeout=30)
            except requests.RequestException as exc:
                rec.add(kind, 0, False, False, repr(exc))
                continue
            ok = response.status_code == 200
            rec.add(kind, response.status_code, ok, ok or _clean_failure(response), response.text)
        time.sleep(0.05)


def summarise(rec: Recorder, t_restart: float, t_back: float) -> dict:
    rows = sorted(rec.rows)
    failures = [r for r in rows if not r[3]]
    first_fail = failures[0][0] if failures else None
    last_fail = failures[-1][0] if failures else None
    after = [r for r in rows if r[3] and r[0] >= t_back]
    per_kind: dict[str, Counter] = {}
    for _t, kind, status, _ok, _clean in rows:
        per_kind.setdefault(kind, Counter())[str(status)] += 1
    first_ok_after_back = {}
    for t, kind, _s, ok, _c in rows:
        if ok and t >= t_back and kind not in first_ok_after_back:
            first_ok_after_back[kind] = round(t - t_back, 2)
    return {
        "requests": len(rows),
        "failed": len(failures),
        "failed_unclean": sum(1 for r in rows if not r[4]),
        "status_500": sum(1 for r in rows if r[2] >= 500 and r[2] not in (503,)),
        "restart_seconds": round(t_back - t_restart, 2),
        "failing_window_seconds": round(last_fail - first_fail, 2) if failures else 0.0,
        "last_failure_after_restart_done_seconds": round(last_fail - t_back, 2)
        if failures
        else None,
        "first_success_after_restart_done_seconds": first_ok_after_back,
        "successes_after_restart": len(after),
        "by_kind": {k: dict(v) for k, v in sorted(per_kind.items())},
        "unclean_examples": rec.bad,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", default=os.environ.get("FAULTS_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--before", type=float, default=8.0, help="seconds of traffic first")
    parser.add_argument("--after", type=float, default=15.0, help="seconds after the restart")
    parser.add_argument("--reporters", type=int, default=4)
    parser.add_argument("--readers", type=int, default=2)
    args = parser.parse_args()
    if not args.db_url.startswith("postgres"):
        raise SystemExit("The fault test restarts PostgreSQL: give a postgres:// URL.")
    ensure_database(args.db_url)
    run = f"faults-{uuid.uuid4().hex[:8]}"
    photo = photo_bytes()
    with ProductionStack(db_url=args.db_url, workers=2) as stack:
        api_key = json.loads(stack.manage("shell", "-c", SETUP).stdout.strip().splitlines()[-1])[
            "api_key"
        ]
        rec = Recorder()
        stop = threading.Event()
        threads = [
            threading.Thread(target=reporter, args=(stack, rec, stop, run, n, photo))
            for n in range(args.reporters)
        ]
        threads.append(
            threading.Thread(target=open311_client, args=(stack, rec, stop, run, api_key))
        )
        threads += [
            threading.Thread(target=reader, args=(stack, rec, stop)) for _ in range(args.readers)
        ]
        for thread in threads:
            thread.start()
        time.sleep(args.before)
        print(f"[faults] {len(rec.rows)} requests so far; restarting PostgreSQL", flush=True)
        t_restart = time.monotonic()
        restart = subprocess.run(PG_RESTART, capture_output=True, text=True, check=False)  # noqa: S603
        t_back = time.monotonic()
        if restart.returncode != 0:
            stop.set()
            raise SystemExit(f"pg_ctlcluster failed: {restart.stderr}")
        print(f"[faults] PostgreSQL back after {t_back - t_restart:.1f} s", flush=True)
        time.sleep(args.after)
        stop.set()
        for thread in threads:
            thread.join(60)
        figures = summarise(rec, t_restart, t_back)
        # The worker: still alive after the outage? (systemd restarts it: Restart=always)
        figures["worker_survived_outage"] = stack.worker_running
        if not stack.worker_running:
            stack.start_worker()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            check = stack.manage(
                "shell",
                "-c",
                PENDING_TASKS,
            )
            if check.stdout.strip().splitlines()[-1] == "0":
                break
            time.sleep(1)
        inputs = stack.dir / "faults-input.json"
        inputs.write_text(json.dumps({"run": run, "saved": rec.saved}))
        stack.env["FAULTS_INPUT"] = str(inputs)
        database = json.loads(stack.manage("shell", "-c", CHECK).stdout.strip().splitlines()[-1])
        stack.env.pop("FAULTS_INPUT")
    figures["saved"] = len(rec.saved)
    figures["database"] = database
    ok = (
        not database["saved_missing"]
        and not database["map_cases_without_photo"]
        and not database["photo_rows_without_file"]
        and not database["files_without_row"]
        and figures["failed_unclean"] == 0
        and figures["status_500"] == 0
        and figures["successes_after_restart"] > 0
    )
    figures["ok"] = ok
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    print(f"[faults] {'PASS' if ok else 'FAIL'}; written to {RESULTS.relative_to(ROOT)}")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
