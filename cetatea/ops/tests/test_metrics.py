"""/metrics: Prometheus text for the allowed addresses or the token only; request counts
by route name (never the path); the database's figures read cheaply and cached."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Count as DbCount
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client.parser import text_string_to_metric_families

from cetatea.insights.models import Count, RefreshState, Snapshot
from cetatea.ops.metrics import COLLECTOR
from cetatea.ops.models import BackupRun

pytestmark = pytest.mark.django_db


def samples(response) -> dict[tuple, float]:
    """{(name, (label pairs...)): value} of a text exposition."""
    out = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def scrape(client, **kwargs):
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    return samples(response)


def task(*, status="READY", queue="default", enqueued_ago=0, run_after=None):
    row = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="cetatea.cases.tasks.process_photo_task",
        backend_name="default",
        queue_name=queue,
        status=status,
        run_after=run_after or get_date_max(),
    )
    DBTaskResult.objects.filter(pk=row.pk).update(
        enqueued_at=timezone.now() - dt.timedelta(seconds=enqueued_ago)
    )
    return row


# --- who may read it ----------------------------------------------------------------------


def test_metrics_are_answered_to_the_local_address(client):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200


def test_anyone_else_gets_a_404(client, settings):
    settings.CETATEA_METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", headers=wrong).status_code == 404
    # Through a proxy on the same host the address says nothing: not let in by it.
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", headers=proxied).status_code == 404


def test_the_bearer_token_or_an_allowed_network_lets_a_scraper_in(client, settings):
    settings.CETATEA_METRICS_TOKEN = "s3cret-token"
    token = {"Authorization": "Bearer s3cret-token"}
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", headers=token).status_code == 200
    settings.CETATEA_METRICS_ALLOW = ["10.1.0.0/16", "not-an-address"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.2.0.1").status_code == 404


def test_no_token_configured_lets_no_bearer_in(client, settings):
    settings.CETATEA_METRICS_TOKEN = ""
    empty = {"Authorization": "Bearer "}
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", headers=empty).status_code == 404


# --- requests -----------------------------------------------------------------------------


def test_requests_are_counted_by_route_name_and_status_class_never_by_path(client):
    key = (
        "cetatea_http_requests_total",
        (("method", "GET"), ("route", "login"), ("status", "2xx")),
    )
    missing = (
        "cetatea_http_requests_total",
        (("method", "GET"), ("route", "unmatched"), ("status", "4xx")),
    )
    first = scrape(client)
    before, missing_before = first.get(key, 0), first.get(missing, 0)
    client.get(reverse("login"))
    client.get("/no-such-page-1850312011234/")
    after = scrape(client)
    assert after[key] == before + 1
    # (Counters are per process: other tests in this worker count requests too.)
    assert after[missing] == missing_before + 1
    assert not any("1850312011234" in str(k) for k in after)
    assert any(
        k[0] == "cetatea_http_request_duration_seconds_bucket" and ("route", "login") in k[1]
        for k in after
    )


# --- the database's figures ---------------------------------------------------------------


def test_queue_lengths_and_the_oldest_ready_task(client):
    task(enqueued_ago=120)
    task(enqueued_ago=30)
    task(status="RUNNING")
    task(run_after=timezone.now() + dt.timedelta(hours=1))  # a retry, later
    task(queue="mail", run_after=timezone.now() - dt.timedelta(seconds=300), enqueued_ago=900)
    task(status="SUCCESSFUL", enqueued_ago=9999)
    got = scrape(client)
    assert got[("cetatea_tasks_ready", (("queue", "default"),))] == 2
    assert got[("cetatea_tasks_scheduled", (("queue", "default"),))] == 1
    assert got[("cetatea_tasks_running", (("queue", "default"),))] == 1
    assert 120 <= got[("cetatea_tasks_oldest_ready_age_seconds", (("queue", "default"),))] < 200
    # Ready since its run_after (5 minutes), not since it was enqueued (15).
    assert 300 <= got[("cetatea_tasks_oldest_ready_age_seconds", (("queue", "mail"),))] < 400


def test_cases_terms_robot_calls_refresh_and_backup_come_from_the_overview(client, catalog):
    roads = catalog["roads"]
    Snapshot.objects.bulk_create(
        [
            Snapshot(dim="dch", key=f"{roads.pk}|web", metric="open", n=7),
            Snapshot(dim="dch", key=f"{roads.pk}|phone", metric="open", n=3),
            Snapshot(dim="dch", key=f"{roads.pk}|web", metric="overdue", n=2),
            Snapshot(dim="dch", key="0|web", metric="open", n=1),
            Snapshot(dim="rp", key="1|0", metric="pet_open", n=5),
            Snapshot(dim="rp", key="1|0", metric="pet_late", n=4),
            Snapshot(dim="rp", key="2|0", metric="pet_late", n=1),
            Snapshot(dim="rp", key="1|0", metric="i544_late", n=2),
        ]
    )
    today = timezone.localdate()
    first = today.replace(day=1)
    last_month = (first - dt.timedelta(days=1)).replace(day=1)
    Count.objects.bulk_create(
        [
            Count(dim="rob", grain="m", period=last_month, key="all", metric="rb_calls", n=40),
            Count(dim="rob", grain="d", period=last_month, key="all", metric="rb_calls", n=40),
            Count(dim="rob", grain="d", period=first, key="all", metric="rb_calls", n=2),
            Count(dim="rob", grain="d", period=first, key="all", metric="rb_xfer", n=1),
            Count(dim="rob", grain="m", period=last_month, key="all", metric="rb_hang", n=5),
        ]
    )
    refreshed = timezone.now() - dt.timedelta(minutes=3)
    RefreshState.objects.create(name="main", refreshed_at=refreshed)
    BackupRun.objects.create(
        finished_at=refreshed, archive="cetatea-backup-x.tar", size_bytes=1234, seconds=2
    )
    got = scrape(client)
    assert got[("cetatea_cases_open", (("department", "roads"),))] == 10
    assert got[("cetatea_cases_overdue", (("department", "roads"),))] == 2
    assert got[("cetatea_cases_open", (("department", "none"),))] == 1
    assert got[("cetatea_registry_past_term", (("regime", "petition"),))] == 5
    assert got[("cetatea_registry_past_term", (("regime", "info_544"),))] == 2
    assert got[("cetatea_registry_open_with_term", (("regime", "petition"),))] == 5
    assert got[("cetatea_robot_calls_total", ())] == 42
    assert got[("cetatea_robot_call_outcomes_total", (("outcome", "transferred"),))] == 1
    assert got[("cetatea_robot_call_outcomes_total", (("outcome", "hung_up"),))] == 5
    assert got[("cetatea_insights_refresh_last_success_timestamp_seconds", ())] == pytest.approx(
        refreshed.timestamp()
    )
    assert got[("cetatea_backup_last_success_timestamp_seconds", ())] == pytest.approx(
        refreshed.timestamp()
    )
    assert got[("cetatea_backup_last_size_bytes", ())] == 1234
    assert got[("cetatea_metrics_read_error", ())] == 0


def test_the_figures_cost_a_few_queries_and_are_kept_fifteen_seconds(
    client, django_assert_max_num_queries, django_assert_num_queries
):
    task()
    with django_assert_max_num_queries(10):
        list(COLLECTOR.collect())
    task()  # a new task is not seen until the cache expires
    with django_assert_num_queries(0):
        families = {f.name: f for f in COLLECTOR.collect()}
    assert families["cetatea_tasks_ready"].samples[0].value == 1
    COLLECTOR.forget()
    families = {f.name: f for f in COLLECTOR.collect()}
    assert families["cetatea_tasks_ready"].samples[0].value == 2


def test_the_task_reads_walk_only_the_unfinished_tasks_indexes():
    """Counting waiting and running tasks and finding the oldest ready one read the
    partial indexes of unfinished tasks, not the table of every finished task."""
    tasks = DBTaskResult.objects.order_by()
    now = timezone.now()
    plans = {
        "ops_task_ready_idx": [
            tasks.filter(status="READY").values("queue_name").annotate(n=DbCount("id")),
            tasks.filter(status="READY", run_after=get_date_max())
            .order_by("enqueued_at")
            .values_list("enqueued_at")[:1],
            tasks.filter(status="READY", run_after__lte=now)
            .order_by("run_after")
            .values_list("run_after")[:1],
        ],
        "ops_task_running_idx": [
            tasks.filter(status="RUNNING").values("queue_name").annotate(n=DbCount("id"))
        ],
    }
    # django-tasks-db's own index holds the ready tasks only too: as good for a count.
    also = {"ops_task_ready_idx": "tasks_db_new_ordering_idx", "ops_task_running_idx": "-"}
    for index, queries in plans.items():
        for qs in queries:
            plan = qs.explain()
            assert index in plan or also[index] in plan, plan
            assert "SCAN django_tasks_database_dbtaskresult\n" not in plan + "\n", plan
            assert "Seq Scan" not in plan, plan


SCRIPT = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cetatea.settings")
import django
django.setup()
from django.test import Client
client = Client(REMOTE_ADDR="127.0.0.1")
for _ in range(int(sys.argv[1])):
    client.get("/no-such-page/")
if sys.argv[2] != "-":
    open(sys.argv[2], "wb").write(client.get("/metrics").content)
"""


@pytest.mark.slow
def test_under_several_worker_processes_the_request_counts_are_summed(tmp_path):
    """prometheus_client's multiprocess mode: each process writes its counts to
    PROMETHEUS_MULTIPROC_DIR, and /metrics in any of them reads every one's."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(shared),
        "CETATEA_PLAIN_STATIC": "true",
        "CETATEA_SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "CETATEA_MEDIA_ROOT": str(tmp_path / "media"),
        "CETATEA_PRIVATE_MEDIA_ROOT": str(tmp_path / "private"),
    }
    env.pop("DATABASE_URL", None)

    def run(n, scrape):
        subprocess.run(  # noqa: S603 (the test's own interpreter)
            [sys.executable, "-c", SCRIPT, str(n), scrape],
            env=env,
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    run(2, "-")
    run(1, str(tmp_path / "scraped.txt"))
    text = (tmp_path / "scraped.txt").read_text()
    found = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    key = (
        "cetatea_http_requests_total",
        (("method", "GET"), ("route", "unmatched"), ("status", "4xx")),
    )
    assert found[key] == 3
