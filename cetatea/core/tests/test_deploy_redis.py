"""A shared Redis cache for several web machines (docs/deploy.md), tried for real.

With ``REDIS_URL`` set, the cache, and so django-ratelimit's counters, live in Redis: two
separate processes (two web machines) count against the same limit. Skipped when no Redis
answers on 127.0.0.1:6379 (Debian's redis-server); database 15 is used.
"""

from __future__ import annotations

import json
import os
import runpy
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings

ROOT = Path(django_settings.BASE_DIR)
REDIS_URL = os.environ.get("CETATEA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_listening() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


needs_redis = pytest.mark.skipif(not redis_listening(), reason="no Redis on 127.0.0.1:6379")

# One "web machine": counts a client's requests against django-ratelimit's limit, as the
# views do (key="ip" reads the address through RATELIMIT_IP_META_KEY), and says the count.
WEB_MACHINE = """
import json, sys
import django
django.setup()
from django.core.cache import caches
from django.test import RequestFactory
from django_ratelimit.core import get_usage

group, times = sys.argv[1], int(sys.argv[2])
request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.7")
for _ in range(times):
    usage = get_usage(request, group=group, key="ip", rate="5/d", increment=True)
print(json.dumps({
    "backend": type(caches["default"]).__name__,
    "count": usage["count"],
    "limited": usage["should_limit"],
}))
"""


def web_machine(group: str, times: int, redis_url: str | None) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cetatea.settings"}
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    result = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", WEB_MACHINE, group, str(times)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_redis_url_switches_the_cache_to_redis(monkeypatch):
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    caches = runpy.run_path(str(ROOT / "cetatea" / "settings.py"))["CACHES"]
    assert caches["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }


@needs_redis
@pytest.mark.slow
def test_rate_limit_counts_are_shared_between_two_processes():
    group = f"deploy-test-{uuid.uuid4().hex}"
    first = web_machine(group, 3, REDIS_URL)
    assert first == {"backend": "RedisCache", "count": 3, "limited": False}
    second = web_machine(group, 3, REDIS_URL)
    assert second == {"backend": "RedisCache", "count": 6, "limited": True}
