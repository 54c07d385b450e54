"""Prometheus metrics (prometheus_client; the list and its meaning: docs/operations.md).

Two kinds:

- per-process instruments updated by the middleware (requests, latency). Under gunicorn
  set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory, the same for every worker and
  wiped at each start: prometheus_client then keeps the values in files there, and
  /metrics sums every worker's;
- figures read from the database at scrape time by ``CetateaCollector`` (task queues,
  open and overdue cases, legal terms, robot calls, last refresh and backup), each a few
  index ranges, kept 15 seconds so several scrapers cost one read.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from django.db import DatabaseError
from django.utils import timezone
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

CACHE_SECONDS = 15.0

REQUESTS = Counter(
    "cetatea_http_requests",
    "HTTP requests answered, by method, route name and status class.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "cetatea_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route name.",
    ["method", "route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def observe_request(*, method: str, route: str, status: str, seconds: float) -> None:
    REQUESTS.labels(method, route, status).inc()
    LATENCY.labels(method, route).observe(seconds)


def multiprocess_mode() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def _timestamp(moment) -> float:
    return moment.timestamp() if moment else 0.0


class CetateaCollector(Collector):
    """The database's figures, read when Prometheus scrapes (at most every 15 s)."""

    def __init__(self, cache_seconds: float = CACHE_SECONDS):
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._at = -1e9
        self._families: list = []

    def forget(self) -> None:
        with self._lock:
            self._at = -1e9
            self._families = []

    def collect(self):
        with self._lock:
            now = time.monotonic()
            if now - self._at >= self.cache_seconds:
                self._families = self._read()
                self._at = now
            families = list(self._families)
        yield from families

    def _read(self) -> list:
        from cetatea.ops import selectors

        started = time.perf_counter()
        error = GaugeMetricFamily(
            "cetatea_metrics_read_error",
            "1 when the last read of the database's figures failed (see the logs).",
        )
        try:
            families = self._families_from(selectors)
            error.add_metric([], 0)
        except DatabaseError:
            logger.exception("metrics: the database's figures could not be read")
            families = []
            error.add_metric([], 1)
        duration = GaugeMetricFamily(
            "cetatea_metrics_read_seconds", "Time the last read of the database's figures took."
        )
        duration.add_metric([], time.perf_counter() - started)
        return [*families, error, duration]

    def _families_from(self, selectors) -> list:
        now = timezone.now()
        ready = GaugeMetricFamily(
            "cetatea_tasks_ready",
            "Background tasks waiting to run now, per queue.",
            labels=["queue"],
        )
        scheduled = GaugeMetricFamily(
            "cetatea_tasks_scheduled",
            "Background tasks waiting for a later time (retries, delays), per queue.",
            labels=["queue"],
        )
        running = GaugeMetricFamily(
            "cetatea_tasks_running", "Background tasks running now, per queue.", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "cetatea_tasks_oldest_ready_age_seconds",
            "How long the oldest task ready to run has waited, per queue (0: none waits).",
            labels=["queue"],
        )
        for q in selectors.task_queues(now):
            ready.add_metric([q.queue], q.ready)
            scheduled.add_metric([q.queue], q.scheduled)
            running.add_metric([q.queue], q.running)
            age = (now - q.oldest_ready_at).total_seconds() if q.oldest_ready_at else 0.0
            oldest.add_metric([q.queue], max(0.0, age))

        open_cases = GaugeMetricFamily(
            "cetatea_cases_open",
            "Open cases per department (as of the last insights_refresh).",
            labels=["department"],
        )
        overdue = GaugeMetricFamily(
            "cetatea_cases_overdue",
            "Open cases past their due time, clock running, per department "
            "(as of the last insights_refresh).",
            labels=["department"],
        )
        for department, (n_open, n_overdue) in sorted(selectors.case_backlog().items()):
            open_cases.add_metric([department], n_open)
            overdue.add_metric([department], n_overdue)

        terms_open = GaugeMetricFamily(
            "cetatea_registry_open_with_term",
            "Open registry entries with a legal term (petitions, Law 544 requests).",
            labels=["regime"],
        )
        terms_late = GaugeMetricFamily(
            "cetatea_registry_past_term",
            "Open registry entries past their legal term (as of the last insights_refresh).",
            labels=["regime"],
        )
        for regime, (n_open, n_late) in sorted(selectors.registry_terms().items()):
            terms_open.add_metric([regime], n_open)
            terms_late.add_metric([regime], n_late)

        robot = selectors.robot_calls()
        calls = CounterMetricFamily(
            "cetatea_robot_calls", "Calls answered by the phone robot (counted by the overview)."
        )
        calls.add_metric([], robot.get("rb_calls", 0))
        outcomes = CounterMetricFamily(
            "cetatea_robot_call_outcomes",
            "Phone robot calls by outcome: identified, self_served (identified, no operator), "
            "transferred, hung_up (before being identified). Not exclusive.",
            labels=["outcome"],
        )
        for metric, name in selectors.ROBOT_OUTCOMES.items():
            outcomes.add_metric([name], robot.get(metric, 0))

        refreshed = GaugeMetricFamily(
            "cetatea_insights_refresh_last_success_timestamp_seconds",
            "When insights_refresh last finished (Unix time; 0: never).",
        )
        refreshed.add_metric([], _timestamp(selectors.insights_refreshed_at()))
        backup = selectors.last_backup()
        backup_time = GaugeMetricFamily(
            "cetatea_backup_last_success_timestamp_seconds",
            "When manage.py backup last succeeded (Unix time; 0: never).",
        )
        backup_time.add_metric([], _timestamp(backup.finished_at if backup else None))
        backup_size = GaugeMetricFamily(
            "cetatea_backup_last_size_bytes", "Size of the last backup archive."
        )
        backup_size.add_metric([], backup.size_bytes if backup else 0)
        return [
            ready,
            scheduled,
            running,
            oldest,
            open_cases,
            overdue,
            terms_open,
            terms_late,
            calls,
            outcomes,
            refreshed,
            backup_time,
            backup_size,
        ]


COLLECTOR = CetateaCollector()
_APP_REGISTRY = CollectorRegistry(auto_describe=False)
_APP_REGISTRY.register(COLLECTOR)


def exposition() -> bytes:
    """The text exposition: this process's (or every worker's) instruments, then the
    database's figures."""
    if multiprocess_mode():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_APP_REGISTRY)
