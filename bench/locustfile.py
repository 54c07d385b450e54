"""The mixed traffic of a city of 300,000 for locust (run by ``bench/load.py``).

``bench/load.py`` writes a plan (JSON, its path in ``CETATEA_LOAD_PLAN``): the staff
accounts and their password, the Open311 api key, the public references, the categories,
points in the city, the photo, and how many requests of each kind a second (ten times the
peak hour, see docs/benchmarks.md, "Load test (issue 11)"). Each user class runs at a
constant rate (``constant_throughput``) with a fixed number of users, so the arrival rate
does not drop when the server slows down (up to the point where a user's task takes longer
than its period).

Every request is checked: the expected status (200, or 302/201 for what files a case),
and for a report the redirect to the new case. Citizens come from addresses of their own
(``X-Forwarded-For``, which nginx believes from 127.0.0.1 only): the per-IP rate limits
then apply per citizen, as in production. The references of every report and Open311
request the server accepted are written to ``CETATEA_LOAD_ACCEPTED`` at the end, and
``bench/load.py`` finds each of them in the database.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
import time
import uuid
from pathlib import Path

from locust import HttpUser, constant_throughput, events, task

PLAN = json.loads(Path(os.environ["CETATEA_LOAD_PLAN"]).read_text())
ACCEPTED_PATH = os.environ.get("CETATEA_LOAD_ACCEPTED")
PHOTO = Path(PLAN["photo"]).read_bytes()
RATES = PLAN["rates"]  # tasks per second per user class
RUN = PLAN["run"]

_ips = itertools.count(1)
_lock = threading.Lock()
ACCEPTED: dict[str, list[str]] = {"report": [], "open311": []}
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
INPUT_RE = r'name="{name}"[^>]*?value="([^"]*)"|value="([^"]*)"[^>]*?name="{name}"'
REPORT_REDIRECT_RE = re.compile(r"/(?:cases|report)/([A-Z0-9-]+)/(?:thanks/)?$")
CONSOLE_CASE_RE = re.compile(r'href="(/staff/cases/\d+/)"')


def next_ip() -> str:
    """A distinct address in 10.0.0.0/8 (a new citizen, or a staff member's desk)."""
    n = next(_ips)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255 or 1}"


def form_value(page: str, name: str) -> str:
    match = re.search(INPUT_RE.format(name=re.escape(name)), page)
    if not match:
        return ""
    return match.group(1) if match.group(1) is not None else match.group(2)


def csrf_token(page: str) -> str:
    match = CSRF_RE.search(page)
    return match.group(1) if match else ""


def expect(response, *statuses: int) -> bool:
    """Mark the response failed unless its status is one of ``statuses``."""
    if response.status_code in statuses:
        response.success()
        return True
    response.failure(f"status {response.status_code}, expected {statuses}")
    return False


class Citizen(HttpUser):
    """Someone who opens the city's map: the page, three moves of the map (pins or
    clusters of the box on the screen), then one case's public page."""

    fixed_count = PLAN["users"]["citizen"]
    wait_time = constant_throughput(RATES["citizen"])

    @task
    def visit(self) -> None:
        headers = {"X-Forwarded-For": next_ip(), "Accept-Language": "ro"}
        self.client.cookies.clear()
        with self.client.get("/", headers=headers, name="map page", catch_response=True) as r:
            expect(r, 200)
        for _ in range(3):
            lat, lon = random.choice(PLAN["points"])
            zoom = random.choice((13, 15, 16, 17))
            half = {13: 0.02, 15: 0.006, 16: 0.003, 17: 0.0015}[zoom]
            bbox = (
                f"{lon - half:.6f},{lat - half / 1.5:.6f},{lon + half:.6f},{lat + half / 1.5:.6f}"
            )
            with self.client.get(
                f"/map/features.json?bbox={bbox}&zoom={zoom}",
                headers=headers,
                name="map data (features.json)",
                catch_response=True,
            ) as r:
                if expect(r, 200) and "kind" not in r.text:
                    r.failure("no map data")
        ref = random.choice(PLAN["refs"])
        with self.client.get(
            f"/cases/{ref}/", headers=headers, name="public case page", catch_response=True
        ) as r:
            expect(r, 200)


class Reporter(HttpUser):
    """A citizen reporting a problem with a phone photo through the public form: the form
    (CSRF cookie, signed time, submission key), a few seconds of typing, the upload."""

    fixed_count = PLAN["users"]["reporter"]
    wait_time = constant_throughput(RATES["reporter"])

    @task
    def report(self) -> None:
        headers = {"X-Forwarded-For": next_ip(), "Accept-Language": "ro"}
        self.client.cookies.clear()
        with self.client.get(
            "/report/", headers=headers, name="report form", catch_response=True
        ) as r:
            if not expect(r, 200):
                return
            page = r.text
        token, stamp = csrf_token(page), form_value(page, "stamp")
        key = form_value(page, "submission_key") or uuid.uuid4().hex
        if not token or not stamp:
            r.failure("report form without csrf token or stamp")
            return
        time.sleep(PLAN["fill_seconds"])  # a person fills the form (the form refuses < 3 s)
        lat, lon = random.choice(PLAN["points"])
        n = next(_ips)
        data = {
            "csrfmiddlewaretoken": token,
            "category": random.choice(PLAN["report_categories"]),
            "latitude": f"{lat:.6f}",
            "longitude": f"{lon:.6f}",
            "address_text": "",
            "title": "Groapă mare în carosabil",
            "description": f"Groapă adâncă în dreptul blocului ({RUN}-{n}); mașinile o ocolesc.",
            "name": "Ana Pop",
            "email": f"load-{RUN}-{n}@example.org",
            "phone": "",
            "website": "",
            "stamp": stamp,
            "submission_key": key,
        }
        files = {"photos": (f"IMG_{n:06d}.jpg", PHOTO, "image/jpeg")}
        headers["Referer"] = self.host + "/report/"
        with self.client.post(
            "/report/",
            data=data,
            files=files,
            headers=headers,
            allow_redirects=False,
            name="report with photo (POST)",
            catch_response=True,
        ) as r:
            if not expect(r, 302):
                return
            match = REPORT_REDIRECT_RE.search(r.headers.get("Location", ""))
            if not match:
                r.failure(f"report saved? redirect to {r.headers.get('Location')!r}")
                return
            location = r.headers["Location"]
            with _lock:
                ACCEPTED["report"].append(match.group(1))
        with self.client.get(
            location, headers=headers, name="page after the report", catch_response=True
        ) as r:
            expect(r, 200)


class Open311App(HttpUser):
    """Apps and dashboards through Open311 GeoReport v2 (an api key for POST)."""

    fixed_count = PLAN["users"]["open311"]
    wait_time = constant_throughput(RATES["open311"])

    def on_start(self) -> None:
        self.headers = {"X-Forwarded-For": next_ip()}

    @task(PLAN["open311_weights"]["services"])
    def services(self) -> None:
        with self.client.get(
            "/open311/v2/services.json",
            headers=self.headers,
            name="open311 GET services",
            catch_response=True,
        ) as r:
            expect(r, 200)

    @task(PLAN["open311_weights"]["list"])
    def requests_list(self) -> None:
        with self.client.get(
            "/open311/v2/requests.json?page_size=100",
            headers=self.headers,
            name="open311 GET requests (list)",
            catch_response=True,
        ) as r:
            expect(r, 200)

    @task(PLAN["open311_weights"]["get"])
    def request_detail(self) -> None:
        ref = random.choice(PLAN["refs"])
        with self.client.get(
            f"/open311/v2/requests/{ref}.json",
            headers=self.headers,
            name="open311 GET request",
            catch_response=True,
        ) as r:
            expect(r, 200)

    @task(PLAN["open311_weights"]["post"])
    def post(self) -> None:
        lat, lon = random.choice(PLAN["points"])
        n = next(_ips)
        data = {
            "api_key": PLAN["api_key"],
            "service_code": random.choice(PLAN["open311_codes"]),
            "lat": f"{lat:.6f}",
            "long": f"{lon:.6f}",
            "description": f"Stâlp de iluminat căzut, test {RUN}-{n}",
            "first_name": "Ana",
            "last_name": "Pop",
            "account_id": f"load-{RUN}-{n}",
        }
        with self.client.post(
            "/open311/v2/requests.json",
            data=data,
            headers=self.headers,
            name="open311 POST request",
            catch_response=True,
        ) as r:
            if not expect(r, 201):
                return
            try:
                item = r.json()[0]
            except (ValueError, IndexError, KeyError):
                r.failure("open311 POST: no request in the answer")
                return
            ref = item.get("service_request_id") or item.get("token")
            if not ref:
                r.failure("open311 POST: no service_request_id")
                return
            with _lock:
                ACCEPTED["open311"].append(ref)


class _Staff(HttpUser):
    """A logged-in member of staff (the real login form; a TOTP step when 2FA asks)."""

    abstract = True
    accounts: list[str] = []
    queue_path = "/staff/queue/"
    queue_name = ""
    _taken = itertools.count()

    def on_start(self) -> None:
        index = next(self._taken) % len(self.accounts)
        self.username = self.accounts[index]
        self.headers = {"X-Forwarded-For": next_ip(), "Accept-Language": "ro"}
        self.login()

    def login(self) -> None:
        with self.client.get(
            "/login/", headers=self.headers, name="staff login form", catch_response=True
        ) as r:
            if not expect(r, 200):
                return
            token = csrf_token(r.text)
        # next= the queue: the page every role here may open (the default is people search).
        with self.client.post(
            "/login/",
            data={
                "csrfmiddlewaretoken": token,
                "username": self.username,
                "password": PLAN["password"],
                "next": "/staff/queue/",
            },
            headers={**self.headers, "Referer": self.host + "/login/"},
            name="staff login (POST)",
            catch_response=True,
        ) as r:
            if not expect(r, 200):
                return
            page, url = r.text, r.url
            if 'name="otp_token"' in page or 'name="token"' in page:
                self._second_factor(page, url)
            elif "/login/" in url:
                r.failure("staff login refused")

    def _second_factor(self, page: str, url: str) -> None:
        from django_otp.oath import totp

        key = bytes.fromhex(PLAN["totp_keys"][self.username])
        field = "otp_token" if 'name="otp_token"' in page else "token"
        with self.client.post(
            url,
            data={"csrfmiddlewaretoken": csrf_token(page), field: f"{totp(key):06d}"},
            headers={**self.headers, "Referer": url},
            name="staff 2FA code (POST)",
            catch_response=True,
        ) as r:
            if expect(r, 200) and ('name="otp_token"' in r.text or "/login/" in r.url):
                r.failure("2FA code refused")

    @task
    def work(self) -> None:
        with self.client.get(
            self.queue_path, headers=self.headers, name=self.queue_name, catch_response=True
        ) as r:
            if not expect(r, 200):
                return
            if "/login/" in r.url:
                r.failure("sent to the login page")
                return
            links = CONSOLE_CASE_RE.findall(r.text)
        if links and random.random() < PLAN["staff_open_case"]:
            with self.client.get(
                random.choice(links),
                headers=self.headers,
                name="staff case page",
                catch_response=True,
            ) as r:
                expect(r, 200)


class Operator(_Staff):
    """Call-centre operators: the console's queue of every department."""

    fixed_count = PLAN["users"]["operator"]
    wait_time = constant_throughput(RATES["operator"])
    accounts = PLAN["operators"]
    queue_path = "/staff/queue/?department="
    queue_name = "console queue (all departments)"
    _taken = itertools.count()


class DepartmentStaff(_Staff):
    """Department staff: their department's queue (open cases, soonest due first)."""

    fixed_count = PLAN["users"]["department"]
    wait_time = constant_throughput(RATES["department"])
    accounts = PLAN["department_staff"]
    queue_path = "/staff/queue/"
    queue_name = "department queue"
    _taken = itertools.count()


@events.test_stop.add_listener
def _write_accepted(**_kwargs) -> None:
    if ACCEPTED_PATH:
        with _lock:
            Path(ACCEPTED_PATH).write_text(json.dumps(ACCEPTED))
