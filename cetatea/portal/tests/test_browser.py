"""The public map portal in a real browser: headless Chromium driven by Playwright.

* Filing a report on ``/report/`` (pin on the map, or the typed street with the keyboard
  only), with a photo, lands on the case's public page, whose thumbnail is served and has
  no EXIF left.
* axe-core finds no WCAG 2.1 A/AA violation on the report form, the list and a case page.

The browser is Debian's ``chromium`` (installed by ``scripts/browser-deps.sh``, run by
``make test``); Playwright's own browser downloads are never used. axe-core is the copy
shipped in the pinned ``axe-playwright-python`` wheel. Nothing leaves the machine: the map
tiles point at the live server (they 404, Leaflet does not mind) and any request to a
non-loopback host is aborted and makes the test fail.

The server is pytest-django's ``live_server`` (a thread of this process, so settings
overrides and monkeypatches apply to it); the tests use ``transactional_db`` so the
server's thread sees their data. The module is skipped when Chromium or Playwright is
missing.
"""

from __future__ import annotations

import io
import re
from urllib.parse import urljoin

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.urls import include, path, re_path
from django.views.static import serve
from PIL import Image

from cetatea.core.testing.browser import assert_accessible, require_browser

CATEGORY = "ROAD_POTHOLE"
TIMEOUT_MS = 15_000

pytestmark = [pytest.mark.slow, pytest.mark.browser]

sync_api = require_browser()


# --- URLs: the project's, plus MEDIA_URL (served by the web server in production) --------


def _media(request, path):
    return serve(request, path, document_root=django_settings.MEDIA_ROOT)


urlpatterns = [
    re_path(r"^media/(?P<path>.+)$", _media),
    path("", include("cetatea.urls")),
]


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def site(live_server, settings, tmp_path, monkeypatch):
    """The live server with the real catalogue, photos processed at once, no network."""
    from cetatea.portal import forms

    settings.ROOT_URLCONF = __name__
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CETATEA_PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            **settings.STORAGES["private"],
            "OPTIONS": {
                **settings.STORAGES["private"]["OPTIONS"],
                "location": tmp_path / "private",
            },
        },
    }
    # Tiles from the live server itself (404s: the map still works, nothing goes out);
    # the attribution stays the real one (links are checked by axe, never followed).
    settings.CETATEA_TILE_URL = live_server.url + "/static/none/{z}/{x}/{y}.png"
    # The anti-spam check refuses forms filled in under 3 s; the server runs in this process.
    monkeypatch.setattr(forms, "MIN_FILL_SECONDS", 0)
    cache.clear()  # rate limits counted by earlier tests
    call_command("load_catalog", stdout=io.StringIO())
    return live_server


@pytest.fixture
def page(site, open_page):
    """A fresh anonymous page; the test fails if a request left the machine or the page
    threw a JavaScript error."""
    return open_page(
        None,
        locale="en-GB",
        language=None,
        viewport={"width": 1280, "height": 900},
        timeout=TIMEOUT_MS,
    )


# --- helpers -------------------------------------------------------------------------------


def jpeg_with_exif() -> bytes:
    """A real photo-like JPEG whose EXIF names a camera (the public copies must drop it)."""
    image = Image.new("RGB", (800, 600), (90, 90, 90))
    for x in range(0, 800, 40):
        for y in range(0, 600, 40):
            image.paste((120 + x % 120, 80 + y % 150, 60), (x, y, x + 20, y + 20))
    exif = Image.Exif()
    exif[0x010F] = "CetateaTestCamera"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x013B] = "Secret Photographer"  # Artist
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).getexif()  # the fixture really carries EXIF
    return data


def assert_no_exif(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert not image.getexif(), dict(image.getexif())
        assert "exif" not in image.info
    assert b"CetateaTestCamera" not in data
    assert b"Secret Photographer" not in data


def map_ready(page) -> bool:
    """Leaflet built the pick map (it does even when no tile loads)."""
    try:
        page.wait_for_selector("#pick-map.leaflet-container", timeout=5_000)
    except sync_api.TimeoutError:
        return False
    return True


def choose_street(page, text: str = "Moților") -> None:
    """The typed alternative to the map: htmx lists the streets, a button places the pin."""
    page.fill("#id_address_text", "")
    page.locator("#id_address_text").press_sequentially(text, delay=20)
    page.locator("#street-results .street-choice").first.click()
    sync_api.expect(page.locator("#id_latitude")).not_to_have_value("")


def assert_public_page_with_photo(page, title: str) -> str:
    """On /cases/<ref>/: the title and a served thumbnail without EXIF; returns the ref."""
    page.wait_for_url(re.compile(r"/cases/[^/]+/$"))
    reference = page.url.rstrip("/").rsplit("/", 1)[-1]
    sync_api.expect(page.locator("h1")).to_contain_text(title)
    sync_api.expect(page.locator("h1")).to_contain_text(reference)
    thumbnail = page.locator("ul.photos img").first
    sync_api.expect(thumbnail).to_be_visible()
    thumbnail.evaluate(
        "img => img.complete ? null : new Promise(ok => { img.onload = img.onerror = ok; })"
    )
    assert thumbnail.evaluate("img => img.naturalWidth") > 0, "the thumbnail did not load"
    for url in (
        thumbnail.get_attribute("src"),
        page.locator("ul.photos a").first.get_attribute("href"),
    ):
        response = page.request.get(urljoin(page.url, url))
        assert response.status == 200, (url, response.status)
        assert response.headers["content-type"] == "image/jpeg"
        assert_no_exif(response.body())
    return reference


def check_case_stored(reference: str, title: str) -> None:
    from cetatea.cases.choices import PhotoStatus
    from cetatea.cases.models import Case

    case = Case.objects.get(reference=reference)
    assert case.title == title
    assert case.category.code == CATEGORY
    assert case.latitude and case.longitude
    assert [p.status for p in case.photos.all()] == [PhotoStatus.READY]


# --- tests ---------------------------------------------------------------------------------


def test_report_with_photo_on_the_map_is_public(page, site):
    page.goto(site.url + "/report/")
    page.select_option("#id_category", CATEGORY)
    if map_ready(page):
        box = page.locator("#pick-map").bounding_box()
        # The map opens on the city centre; a click a little off it is still in the city.
        page.locator("#pick-map").click(
            position={"x": box["width"] / 2 + 10, "y": box["height"] / 2}
        )
        sync_api.expect(page.locator("#id_latitude")).not_to_have_value("")
        sync_api.expect(page.locator("#pick-map .leaflet-marker-icon")).to_have_count(1)
    else:  # Leaflet did not load: the typed street is the way
        choose_street(page)
    title = "Groapă mare în asfalt"
    page.fill("#id_title", title)
    page.fill("#id_description", "Adâncă, lângă trecerea de pietoni.")
    page.set_input_files(
        "#id_photos", {"name": "groapa.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_exif()}
    )
    page.click("#submit-report")
    reference = assert_public_page_with_photo(page, title)
    check_case_stored(reference, title)

    page.goto(site.url + "/cases/")
    sync_api.expect(page.locator(f"table.list a[href$='/{reference}/']")).to_be_visible()


def test_report_with_the_keyboard_and_a_typed_street(page, site):
    """No pointer, no map: Tab, type and Enter only."""
    page.goto(site.url + "/report/")
    page.locator("#id_address_text").focus()
    page.keyboard.type("Moților", delay=20)
    first = page.locator("#street-results .street-choice").first
    sync_api.expect(first).to_be_visible()
    page.keyboard.press("Tab")
    sync_api.expect(first).to_be_focused()
    street = first.inner_text()
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#id_latitude")).not_to_have_value("")
    sync_api.expect(page.locator("#id_address_text")).to_have_value(street)
    # Choosing a street leaves the focus where the citizen was, not on the page body.
    sync_api.expect(page.locator("#id_address_text")).to_be_focused()

    category = page.locator("#id_category")
    category.focus()
    for _ in range(80):  # arrow down the list until the category (about 40 entries)
        if category.input_value() == CATEGORY:
            break
        page.keyboard.press("ArrowDown")
    assert category.input_value() == CATEGORY

    # The category's own questions (e.g. the size of the pothole) come next; all optional.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "id_title":
            break
    sync_api.expect(page.locator("#id_title")).to_be_focused()
    title = "Groapă pe Calea Moților"
    page.keyboard.type(title)
    page.keyboard.press("Tab")
    sync_api.expect(page.locator("#id_description")).to_be_focused()
    page.keyboard.type("Semnalată fără hartă.")
    page.keyboard.press("Tab")
    sync_api.expect(page.locator("#id_photos")).to_be_focused()
    # Choosing the file is the operating system's dialog; the input is reached by keyboard.
    page.set_input_files(
        "#id_photos", {"name": "groapa.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_exif()}
    )
    for _ in range(20):
        if page.evaluate("document.activeElement.id") == "submit-report":
            break
        page.keyboard.press("Tab")
    sync_api.expect(page.locator("#submit-report")).to_be_focused()
    page.keyboard.press("Enter")

    reference = assert_public_page_with_photo(page, title)
    check_case_stored(reference, title)
    sync_api.expect(page.locator(".facts")).to_contain_text("Moților")


@pytest.fixture
def public_case(site):
    """A public case with a processed photo, filed through the portal's service."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import translation

    from cetatea.portal import services

    with translation.override("ro"):
        result = services.report_submit(
            category=CATEGORY,
            latitude=django_settings.CETATEA_MAP_CENTER[0],
            longitude=django_settings.CETATEA_MAP_CENTER[1],
            title="Groapă în Cetate",
            description="Pe aleea principală.",
            photos=[SimpleUploadedFile("p.jpg", jpeg_with_exif(), content_type="image/jpeg")],
            name="Ana",
            show_name=True,
        )
    assert not result.photo_errors
    return result.case


@pytest.mark.parametrize("where", ["report", "report-errors", "list", "case", "home"])
def test_no_wcag_a_or_aa_violation(page, site, public_case, where):
    url = {
        "report": "/report/",
        "report-errors": "/report/",
        "list": "/cases/",
        "case": f"/cases/{public_case.reference}/",
        "home": "/",
    }[where]
    page.goto(site.url + url)
    if where == "report-errors":  # the form sent empty comes back with its error messages
        page.click("#submit-report")
        sync_api.expect(page.locator(".error").first).to_be_visible()
    page.wait_for_load_state("load")
    if where != "list":  # let Leaflet build its markup, it is checked too
        page.wait_for_selector(".leaflet-container")
    assert_accessible(page)
