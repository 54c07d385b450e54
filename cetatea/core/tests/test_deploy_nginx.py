"""deploy/nginx/cetatea.conf: the limits match the settings, the file passes `nginx -t`, and
media are served with safe headers (run on loopback by bench/prod.py, as the load test
does; skipped when nginx is not installed: scripts/nginx-deps.sh)."""

import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bench"))
import prod  # noqa: E402

CONF = (ROOT / "deploy" / "nginx" / "cetatea.conf").read_text()
needs_nginx = pytest.mark.skipif(not prod.nginx_available(), reason="nginx is not installed")


def test_body_limit_takes_a_report_with_all_its_photos():
    size = re.search(r"client_max_body_size (\d+)m;", CONF)
    assert size, "client_max_body_size missing"
    photos = settings.CETATEA_PHOTOS_PER_CASE * settings.CETATEA_PHOTO_MAX_BYTES
    assert int(size.group(1)) * 1024 * 1024 >= photos


def test_client_address_and_proxy_headers():
    for line in (
        "set_real_ip_from 127.0.0.1;",
        "real_ip_header X-Forwarded-For;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header Host $host;",
        "gzip on;",
    ):
        assert line in CONF, line


def test_render_for_loopback_swaps_only_addresses_and_paths(tmp_path):
    site = prod.render_nginx_site(
        port=8089, app_address="127.0.0.1:9001", static_root=tmp_path, media_root=tmp_path
    )
    assert "listen 127.0.0.1:8089;" in site
    assert "server 127.0.0.1:9001 " in site
    assert "ssl_certificate" not in site and "alias /srv/cetatea/" not in site
    assert "return 301" not in site  # the port-80 redirect server is dropped
    assert "client_max_body_size 80m;" in site


@pytest.fixture
def media_nginx(tmp_path):
    """nginx with the site on a free port, media in tmp_path/media (no upstream needed)."""
    media = tmp_path / "media"
    media.mkdir()
    tmp_path.chmod(0o755)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "nginx-tmp" / sub).mkdir(parents=True)
    (tmp_path / "logs").mkdir()
    port = prod.free_port()
    site = tmp_path / "site.conf"
    site.write_text(
        prod.render_nginx_site(
            port=port,
            app_address=f"127.0.0.1:{prod.free_port()}",
            static_root=tmp_path,
            media_root=media,
        )
    )
    main = tmp_path / "nginx.conf"
    main.write_text(prod._nginx_main(site, tmp_path))
    binary = prod.nginx_binary()
    check = subprocess.run(  # noqa: S603 - nginx -t on a test file
        [binary, "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen(  # noqa: S603
        [binary, "-p", str(tmp_path), "-c", str(main), "-g", "daemon off;"]
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(50):
        try:
            urllib.request.urlopen(base + "/media/", timeout=1)  # noqa: S310 - loopback
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.1)
    yield base, media
    proc.terminate()
    proc.wait(timeout=10)


@needs_nginx
def test_media_are_never_run_and_only_photos_show_inline(media_nginx):
    base, media = media_nginx
    (media / "page.html").write_text("<script>alert(1)</script>")
    (media / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    with urllib.request.urlopen(base + "/media/page.html") as r:  # noqa: S310 - loopback
        assert r.headers["Content-Disposition"] == "attachment"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
    with urllib.request.urlopen(base + "/media/photo.jpg") as r:  # noqa: S310 - loopback
        assert r.headers["Content-Type"] == "image/jpeg"
        assert r.headers.get("Content-Disposition") is None
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
    with pytest.raises(urllib.error.HTTPError) as listing:
        urllib.request.urlopen(base + "/media/")  # noqa: S310 - loopback
    assert listing.value.code == 403  # no directory listing
