"""The production stack on loopback, for benchmarks and fault tests.

nginx (Debian's, with ``deploy/nginx/cetatea.conf``) in front of gunicorn
(``deploy/gunicorn.conf.py``) and the background worker (``manage.py db_worker``), with
``CETATEA_DEBUG=false``, a PostgreSQL database, the static files collected and the media
served by nginx from a ``MEDIA_ROOT`` of the stack's own::

    from prod import ProductionStack          # with bench/ on sys.path

    with ProductionStack(db_url="postgres://postgres@127.0.0.1:5432/h_load", workers=2) as s:
        s.base_url            # "http://127.0.0.1:PORT" (nginx)
        s.app_url             # gunicorn itself, behind nginx
        s.media_root          # Path: what nginx serves under /media/
        s.private_media_root  # Path: never served
        s.env                 # the environment of the stack's processes
        s.manage("shell", "-c", "...")   # a management command in that environment
        s.stop_worker(); s.start_worker(); s.worker_running
        s.restart_app()       # gunicorn: stop, start again, wait until it answers
        s.wait_ready()        # GET /healthz through nginx answers 200
        s.logs()              # the tails of the three logs, for a failure message

The database is used as it is: ``migrate=True`` (the default) runs ``migrate`` first;
nothing is seeded or deleted. ``ProductionStack.start()`` raises ``StackError`` (with the
logs) when a part does not come up. ``stop()`` stops the three processes it started
(by their process ids, never by name) and removes the temporary folder unless
``keep_dir=True``. The media folders are temporary unless ``media_root`` is given.

nginx must be installed (``scripts/nginx-deps.sh`` installs Debian's ``nginx-light`` when
running as root); ``nginx_available()`` says whether it is. Its configuration is
``deploy/nginx/cetatea.conf`` with the listen lines, the certificate lines, the paths and
the upstream address replaced (``render_nginx_site``); the redirecting port-80 server is
dropped. Nothing else is changed, so the load test measures the production file.

Run on its own to try it: ``python bench/prod.py --db-url postgres://.../h_load`` starts the
stack, prints its address and waits for Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NGINX_SITE = ROOT / "deploy" / "nginx" / "cetatea.conf"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
PROD_STATIC = "/srv/cetatea/static/"
PROD_MEDIA = "/srv/cetatea/media/"
PROD_UPSTREAM = "server 127.0.0.1:8000 "


class StackError(RuntimeError):
    """A part of the production stack did not start (the message has its logs)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    for candidate in ("/usr/sbin/nginx", "/usr/local/sbin/nginx"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def nginx_available() -> bool:
    return nginx_binary() is not None


def _server_blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each top-level ``server { ... }`` block (braces balanced)."""
    blocks = []
    for match in re.finditer(r"^server\s*\{", text, re.M):
        depth, i = 0, match.start()
        while i < len(text):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    blocks.append((match.start(), i + 1))
                    break
            i += 1
    return blocks


def render_nginx_site(
    *, port: int, app_address: str, static_root: Path, media_root: Path, source: Path = NGINX_SITE
) -> str:
    """``deploy/nginx/cetatea.conf`` for loopback: plain HTTP on ``127.0.0.1:port``, the
    given paths and upstream. Raises ``StackError`` when the file no longer has the shape
    this expects (so a change to it is noticed here, not silently skipped)."""
    text = source.read_text()
    blocks = _server_blocks(text)
    app_blocks = [(a, b) for a, b in blocks if "location /media/" in text[a:b]]
    if len(app_blocks) != 1:
        raise StackError(f"{source}: expected one server block with location /media/")
    start, end = app_blocks[0]
    head = text[: blocks[0][0]]  # the upstream and the comments before the first server
    server = text[start:end]
    lines = []
    listened = False
    for line in server.splitlines():
        stripped = line.strip()
        if stripped.startswith("listen "):
            if not listened:
                lines.append(f"    listen 127.0.0.1:{port};")
                listened = True
            continue
        if stripped.startswith("ssl_"):
            continue
        lines.append(line)
    server = "\n".join(lines)
    checks = {PROD_STATIC: f"{static_root}/", PROD_MEDIA: f"{media_root}/"}
    for old, new in checks.items():
        if old not in server:
            raise StackError(f"{source}: {old} not found")
        server = server.replace(old, new)
    if PROD_UPSTREAM not in head:
        raise StackError(f"{source}: upstream '{PROD_UPSTREAM.strip()}' not found")
    head = head.replace(PROD_UPSTREAM, f"server {app_address} ")
    return head + server + "\n"


def _nginx_main(site: Path, folder: Path) -> str:
    logs = folder / "logs"
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes auto;
pid {folder}/nginx.pid;
error_log {logs}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    client_body_temp_path {folder}/nginx-tmp/body;
    proxy_temp_path {folder}/nginx-tmp/proxy;
    fastcgi_temp_path {folder}/nginx-tmp/fastcgi;
    uwsgi_temp_path {folder}/nginx-tmp/uwsgi;
    scgi_temp_path {folder}/nginx-tmp/scgi;
    access_log {logs}/nginx-access.log;
    include {site};
}}
"""


def _tail(path: Path, size: int = 3000) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-size:].decode(errors="replace")


class ProductionStack:
    """nginx + gunicorn + ``db_worker`` on loopback (see the module's docstring).

    Options: ``db_url`` (required: a PostgreSQL URL, or "" for the SQLite default),
    ``workers`` (gunicorn worker processes), ``worker_processes`` (``db_worker``
    processes), ``env`` (extra environment: it wins over the defaults), ``media_root``,
    ``private_media_root``, ``static_root`` (default ``var/bench-prod-static``, reused:
    ``collectstatic`` only copies what changed), ``migrate``, ``collectstatic``,
    ``trusted_proxy`` (Django reads X-Real-IP from nginx), ``keep_dir``, ``quiet``.
    """

    def __init__(
        self,
        db_url: str,
        *,
        workers: int | None = 2,
        worker_processes: int = 1,
        env: dict | None = None,
        media_root: Path | str | None = None,
        private_media_root: Path | str | None = None,
        static_root: Path | str | None = None,
        migrate: bool = True,
        collectstatic: bool = True,
        trusted_proxy: bool = True,
        keep_dir: bool = False,
        quiet: bool = False,
        start_timeout: float = 90.0,
    ):
        self.db_url = db_url
        self.workers = workers
        self.worker_processes = worker_processes
        self.extra_env = dict(env or {})
        self.migrate = migrate
        self.collectstatic = collectstatic
        self.trusted_proxy = trusted_proxy
        self.keep_dir = keep_dir
        self.quiet = quiet
        self.start_timeout = start_timeout
        self.dir: Path | None = None
        self._media_root = Path(media_root) if media_root else None
        self._private_root = Path(private_media_root) if private_media_root else None
        self.static_root = Path(static_root) if static_root else ROOT / "var" / "bench-prod-static"
        self.port: int | None = None
        self.app_port: int | None = None
        self.nginx: subprocess.Popen | None = None
        self.app: subprocess.Popen | None = None
        self.task_workers: list[subprocess.Popen] = []
        self.env: dict[str, str] = {}

    # --- addresses and folders ------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    @property
    def media_root(self) -> Path:
        return self._media_root

    @property
    def private_media_root(self) -> Path:
        return self._private_root

    @property
    def log_dir(self) -> Path:
        return self.dir / "logs"

    # --- life cycle -------------------------------------------------------------------------

    def __enter__(self) -> ProductionStack:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _say(self, text: str) -> None:
        if not self.quiet:
            print(f"[prod] {text}", flush=True)

    def _build_env(self) -> dict[str, str]:
        env = dict(os.environ)
        for key in ("CETATEA_TASKS_BACKEND", "REDIS_URL", "DJANGO_SETTINGS_MODULE"):
            env.pop(key, None)
        if self.db_url:
            env["DATABASE_URL"] = self.db_url
        else:
            env.pop("DATABASE_URL", None)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "cetatea.settings",
                "CETATEA_DEBUG": "false",
                "CETATEA_PLAIN_STATIC": "false",
                "CETATEA_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "CETATEA_SITE_URL": self.base_url,
                "CETATEA_MEDIA_ROOT": str(self._media_root),
                "CETATEA_PRIVATE_MEDIA_ROOT": str(self._private_root),
                "CETATEA_STATIC_ROOT": str(self.static_root),
                "CETATEA_TRUSTED_PROXY": "true" if self.trusted_proxy else "false",
                "CETATEA_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
                "CETATEA_LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update({k: str(v) for k, v in self.extra_env.items()})
        return env

    def start(self) -> ProductionStack:
        binary = nginx_binary()
        if binary is None:
            raise StackError("nginx is not installed: run scripts/nginx-deps.sh (as root)")
        self.dir = Path(tempfile.mkdtemp(prefix="cetatea-prod-"))
        self.dir.chmod(0o755)  # nginx's workers read the media below it
        (self.dir / "logs").mkdir()
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.dir / "nginx-tmp" / sub).mkdir(parents=True)
        if self._media_root is None:
            self._media_root = self.dir / "media"
        if self._private_root is None:
            self._private_root = self.dir / "private"
        for folder in (self._media_root, self._private_root, self.static_root):
            folder.mkdir(parents=True, exist_ok=True)
        self._media_root.chmod(0o755)
        self.port, self.app_port = free_port(), free_port()
        self.env = self._build_env()
        try:
            if self.migrate:
                self._say("migrate")
                self.manage("migrate", "--noinput", "-v", "0")
            if self.collectstatic:
                self._say("collectstatic")
                self.manage("collectstatic", "--noinput", "-v", "0")
            self.start_app()
            self.start_worker()
            self._start_nginx(binary)
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        self._say(
            f"up: nginx {self.base_url} -> gunicorn {self.app_url} "
            f"({self.workers or 'default'} workers), "
            f"db_worker x{self.worker_processes}, media {self._media_root}"
        )
        return self

    def stop(self) -> None:
        if self.nginx is not None:
            self._terminate(self.nginx, signal.SIGQUIT)  # graceful: finish open requests
            self.nginx = None
        self.stop_app()
        self.stop_worker()
        if self.dir is not None and not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    # --- parts -------------------------------------------------------------------------------

    def manage(self, *args: str, check: bool = True, timeout: float | None = 1800):
        """Run ``manage.py *args`` in the stack's environment; returns CompletedProcess."""
        proc = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, str(ROOT / "manage.py"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise StackError(f"manage.py {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def _popen(self, cmd: list[str], log_name: str) -> subprocess.Popen:
        log = open(self.log_dir / log_name, "ab")  # noqa: SIM115 - closed with the process
        try:
            return subprocess.Popen(  # noqa: S603 - fixed commands
                cmd, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        finally:
            log.close()  # the child has its own descriptor

    def start_app(self) -> None:
        """Start gunicorn (deploy/gunicorn.conf.py) and wait until it answers."""
        if self.app is not None and self.app.poll() is None:
            return
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(GUNICORN_CONF),
            "--bind",
            f"127.0.0.1:{self.app_port}",
        ]
        if self.workers:  # else the conf's default (WEB_CONCURRENCY or 2 x CPUs + 1)
            cmd += ["--workers", str(self.workers)]
        self.app = self._popen(cmd, "gunicorn.log")
        self._wait_http(f"{self.app_url}/healthz", self.app, "gunicorn")

    def stop_app(self) -> None:
        if self.app is not None:
            self._terminate(self.app, signal.SIGTERM)
            self.app = None

    def restart_app(self) -> None:
        self.stop_app()
        self.start_app()

    def start_worker(self) -> None:
        """Start the background worker(s) (``db_worker --queue-name '*'``)."""
        self.task_workers = [p for p in self.task_workers if p.poll() is None]
        while len(self.task_workers) < self.worker_processes:
            n = len(self.task_workers)
            cmd = [
                sys.executable,
                str(ROOT / "manage.py"),
                "db_worker",
                "--queue-name",
                "*",
                "--no-reload",
                "--interval",
                "0.5",
            ]
            self.task_workers.append(self._popen(cmd, f"db_worker-{n}.log"))

    def stop_worker(self) -> None:
        for proc in self.task_workers:
            self._terminate(proc, signal.SIGTERM)
        self.task_workers = []

    @property
    def worker_running(self) -> bool:
        return any(p.poll() is None for p in self.task_workers)

    def _start_nginx(self, binary: str) -> None:
        site = self.dir / "site.conf"
        site.write_text(
            render_nginx_site(
                port=self.port,
                app_address=f"127.0.0.1:{self.app_port}",
                static_root=self.static_root,
                media_root=self._media_root,
            )
        )
        main = self.dir / "nginx.conf"
        main.write_text(_nginx_main(site, self.dir))
        test = subprocess.run(  # noqa: S603 - nginx -t on our file
            [binary, "-t", "-q", "-p", str(self.dir), "-c", str(main)],
            capture_output=True,
            text=True,
            check=False,
        )
        if test.returncode != 0:
            raise StackError(f"nginx -t failed:\n{test.stderr}\n--- site.conf:\n{site.read_text()}")
        self.nginx = self._popen(
            [binary, "-p", str(self.dir), "-c", str(main), "-g", "daemon off;"], "nginx.log"
        )

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until ``/healthz`` answers 200 through nginx."""
        self._wait_http(f"{self.base_url}/healthz", self.nginx, "nginx", timeout)

    def _wait_http(self, url: str, proc, name: str, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or self.start_timeout)
        last = None
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise StackError(f"{name} exited ({proc.returncode})\n{self.logs()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
            except OSError as exc:
                last = str(exc)
            time.sleep(0.3)
        raise StackError(f"{name}: {url} did not answer 200 ({last})\n{self.logs()}")

    @staticmethod
    def _terminate(proc: subprocess.Popen, sig: int, wait: float = 30) -> None:
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def logs(self, size: int = 3000) -> str:
        if self.dir is None:
            return ""
        parts = []
        for path in sorted(self.log_dir.glob("*.log")):
            text = _tail(path, size).strip()
            if text and path.name != "nginx-access.log":
                parts.append(f"--- {path.name}\n{text}")
        return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-migrate", action="store_true")
    args = parser.parse_args()
    with ProductionStack(
        db_url=args.db_url, workers=args.workers, migrate=not args.no_migrate
    ) as s:
        print(f"Cetatea (production stack) at {s.base_url}/ ; Ctrl-C stops it", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
