"""Gunicorn settings for Cetatea in production: ``gunicorn -c deploy/gunicorn.conf.py``.

Gunicorn listens on loopback only; nginx (``deploy/nginx/cetatea.conf``) faces the
clients, buffers slow uploads and downloads, serves ``/static/`` and ``/media/`` and passes
the client's address in ``X-Real-IP`` (Django reads it when ``CETATEA_TRUSTED_PROXY=true``).
Because nginx buffers whole requests and responses, synchronous workers are the right kind:
a worker is never held by a slow phone uploading a photo.

Environment (all optional; command-line options override them):

* ``GUNICORN_BIND``: where to listen (default ``127.0.0.1:8000``; nginx's upstream);
* ``WEB_CONCURRENCY``: worker processes (default ``2 × CPUs + 1``);
* ``GUNICORN_TIMEOUT``: seconds before a stuck worker is restarted (default 30; nginx
  gives up after 60 s, ``proxy_read_timeout``, so gunicorn answers first).
"""

import multiprocessing
import os

wsgi_app = "cetatea.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# A worker is replaced after this many requests (bounded memory; the jitter keeps the
# workers from restarting all at once).
max_requests = 2000
max_requests_jitter = 200
# Heartbeat files in memory, not on a disk that may stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - tmpfs
# Only nginx on this host may set X-Forwarded-* headers.
forwarded_allow_ips = "127.0.0.1,::1"
# Request line and header limits as gunicorn's defaults; bodies are limited by nginx
# (client_max_body_size) and Django (CETATEA_PHOTO_MAX_BYTES, DATA_UPLOAD_MAX_MEMORY_SIZE).
limit_request_line = 8190
# Logs to stderr (journald under systemd); nginx keeps the access log.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
proc_name = "cetatea"


def child_exit(server, worker):
    """Prometheus multiprocess mode (PROMETHEUS_MULTIPROC_DIR, docs/operations.md): a
    worker that exits (max_requests, a restart) has its live gauges dropped."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
