"""Security headers on every page, no inline script or style in any template, CSRF on
every form, and files sent so that a browser never runs them (cetatea/core/security.py)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cetatea.core import security

pytestmark = [pytest.mark.django_db]

ROOT = Path(settings.BASE_DIR) / "cetatea"


def _csp(response) -> dict[str, list[str]]:
    policy = {}
    for part in response["Content-Security-Policy"].split(";"):
        words = part.split()
        if words:
            policy[words[0]] = words[1:]
    return policy


# --- the Content-Security-Policy ------------------------------------------------------------


def test_pages_carry_the_strict_policy(client):
    policy = _csp(client.get(reverse("portal:home")))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in " ".join(sum(policy.values(), []))
    assert "'unsafe-eval'" not in " ".join(sum(policy.values(), []))


def test_images_may_come_from_the_tile_server_only(client):
    tiles = urlsplit(settings.CETATEA_TILE_URL)
    policy = _csp(client.get(reverse("portal:home")))
    assert policy["img-src"][:2] == ["'self'", "data:"]
    if tiles.netloc:
        origin = f"{tiles.scheme}://{tiles.netloc.replace('{s}', '*')}"
        assert policy["img-src"][2:] == [origin]
        assert settings.CETATEA_TILE_ORIGIN == origin


def _templates() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.html") if "templates" in p.parts)


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an on…= event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def test_no_template_has_inline_script_or_style():
    found = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert len(_templates()) > 50
    assert not found, "\n".join(found)


def test_htmx_injects_no_style_element(client):
    page = client.get(reverse("portal:home")).content.decode()
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles":false}\'>' in page
    css = (ROOT / "static" / "cetatea" / "cetatea.css").read_text(encoding="utf-8")
    assert ".htmx-request .htmx-indicator" in css


# --- the other headers ----------------------------------------------------------------------


def test_pages_forbid_framing_sniffing_and_leaking_the_address(client):
    response = client.get(reverse("portal:home"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    permissions = response["Permissions-Policy"]
    assert "geolocation=(self)" in permissions  # the report form's "use my location"
    assert "camera=()" in permissions and "microphone=()" in permissions


# SecurityMiddleware reads its settings when the handler is built: a new Client each time.


def test_hsts_is_sent_over_tls_once_configured():
    assert "Strict-Transport-Security" not in Client().get("/healthz", secure=True)
    with override_settings(SECURE_HSTS_SECONDS=31_536_000):
        assert "Strict-Transport-Security" not in Client().get("/healthz")  # plain HTTP
        response = Client().get("/healthz", secure=True)
        assert response["Strict-Transport-Security"] == "max-age=31536000"


def test_behind_the_tls_proxy_the_forwarded_scheme_counts():
    with override_settings(
        SECURE_HSTS_SECONDS=600, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")
    ):
        assert "Strict-Transport-Security" not in Client().get("/healthz")
        response = Client().get("/healthz", HTTP_X_FORWARDED_PROTO="https")
        assert response["Strict-Transport-Security"] == "max-age=600"


# --- CSRF on every form ---------------------------------------------------------------------

# Machine interfaces, authenticated by their own token or key, not by a browser session.
CSRF_EXEMPT = {"open311", "cti", "robot_webhook"}


def _post_urls() -> list[tuple[str, str]]:
    out = []

    def walk(resolver, prefix="", namespace=""):
        for item in resolver.url_patterns:
            if isinstance(item, URLResolver):
                inner = f"{namespace}{item.namespace}:" if item.namespace else namespace
                walk(item, prefix + str(item.pattern), inner)
            elif isinstance(item, URLPattern) and item.name:
                name = namespace + item.name
                if name.startswith("admin:") or name in CSRF_EXEMPT:
                    continue
                kwargs = {k: _dummy(k) for k in item.pattern.regex.groupindex}
                out.append((name, reverse(name, kwargs=kwargs)))

    walk(get_resolver())
    return out


def _dummy(name: str):
    if name == "year":
        return 2026
    if name == "fmt":
        return "csv"
    if name.endswith("_id") or name in ("month", "number"):
        return 1
    return "x"


def test_every_form_refuses_a_post_without_the_csrf_token(catalog, personas):
    """Anonymous and signed in: a POST without the token is refused (403) by every URL
    but the machine interfaces, before any view runs."""
    anonymous = Client(enforce_csrf_checks=True)
    staff = Client(enforce_csrf_checks=True)
    staff.force_login(personas["admin"])
    accepted = []
    urls = _post_urls()
    assert len(urls) > 150
    for name, url in urls:
        for client in (anonymous, staff):
            response = client.post(url, {"x": "1"})
            if response.status_code != 403:
                accepted.append(f"{name} {url}: {response.status_code}")
    assert not accepted, "\n".join(accepted)


# --- files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "name", "sent"),
    [
        ("text/html", "page.html", "application/octet-stream"),
        ("image/svg+xml", "logo.svg", "application/octet-stream"),
        ("application/xhtml+xml", "a.xhtml", "application/octet-stream"),
        (None, "script.js", "application/octet-stream"),
        (None, "unknown.xyz", "application/octet-stream"),
        ("application/x-msdownload", "setup.exe", "application/octet-stream"),
        (None, "notes.txt", "text/plain; charset=utf-8"),
        ("text/plain", "notes.txt", "text/plain; charset=utf-8"),
        ("image/png", "photo.png", "image/png"),
        ("application/pdf", "scan.pdf", "application/pdf"),
    ],
)
def test_a_file_goes_out_with_a_safe_type(declared, name, sent):
    assert security.safe_content_type(declared, name) == sent


def test_only_raster_images_and_pdf_are_shown_inline():
    png = security.file_response(b"\x89PNG", filename="a.png", inline=True)
    assert png["Content-Disposition"].startswith("inline")
    assert png["Content-Security-Policy"] == security.FILE_CSP
    pdf = security.file_response(b"%PDF-1.7", filename="a.pdf", inline=True)
    assert pdf["Content-Disposition"].startswith("inline")
    assert pdf["Content-Security-Policy"] == security.INLINE_PDF_CSP  # Chromium: no sandbox
    html = security.file_response(b"<h1>x</h1>", filename="a.html", inline=True)
    assert html["Content-Disposition"].startswith("attachment")
    assert html["Content-Type"] == "application/octet-stream"
    assert "sandbox" in html["Content-Security-Policy"]
    text = security.file_response("<script>alert(1)</script>", filename="a.txt")
    assert text["Content-Disposition"] == 'attachment; filename="a.txt"'


def test_an_uploaded_file_with_script_in_it_is_never_run(client, catalog, personas):
    """A task attachment whose text holds HTML and script is sent as a plain-text
    download, unsniffed, under a sandboxing policy that loads nothing."""
    from cetatea.catalog.models import StaffProfile
    from cetatea.intranet.tasks import services as tasks

    staff = personas["staff"]
    StaffProfile.objects.create(user=staff, department=catalog["roads"])
    board = tasks.board_create(actor=staff, name="Drumuri", department_id=catalog["roads"].pk)
    task = tasks.task_create(actor=staff, board=board, title="Plombare")
    body = b"Lista:\n<html><body><script>alert(document.cookie)</script></body></html>\n"
    attachment = tasks.attachment_add(
        actor=staff, task_id=task.pk, file=SimpleUploadedFile("lista.txt", body, "text/html")
    )
    client.force_login(staff)
    response = client.get(reverse("tasks:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == body
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert response["Cache-Control"] == "private, no-store"
