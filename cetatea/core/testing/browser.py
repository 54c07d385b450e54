"""The harness of the tests that drive a real browser (headless Chromium, Playwright).

A browser test module starts with ``sync_api = require_browser()``, which skips the whole
module when Chromium, Playwright or axe-core is missing (see scripts/browser-deps.sh).
The root conftest registers this module as a plugin, so its fixtures need no import:

- ``browser``: one Chromium per test module;
- ``open_page``: ``open_page(user, path)`` opens a page in a new context logged in as
  ``user``; at the end of the test every context is closed and the test fails if a
  request left the machine or a page threw a JavaScript error.

``assert_accessible(page)`` fails on any WCAG 2.1 A/AA violation that axe-core finds.

The browser is module-scoped, not session-scoped: while Playwright's sync API is open its
event loop runs in the test thread, and Django's ORM only accepts that with
DJANGO_ALLOW_ASYNC_UNSAFE, which must not stay set (nor the loop stay running) for the
tests that come after. pytest-xdist runs each worker in its own process, so that is safe.
"""

from __future__ import annotations

import os
from importlib import resources
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pytest
from django.test import Client

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = "/usr/bin/chromium"
LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SESSION_COOKIE = "sessionid"
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in CI
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEFAULT_TIMEOUT_MS = 10_000


def require_browser() -> ModuleType:
    """Skip the calling test module unless Chromium, Playwright and axe-core are all
    there; return ``playwright.sync_api``."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: run scripts/browser-deps.sh", allow_module_level=True)
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")
    return sync_api


@pytest.fixture(scope="module")
def browser():
    sync_api = require_browser()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop in this thread
        with sync_api.sync_playwright() as pw:
            try:
                chromium = pw.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
            except sync_api.Error as exc:
                pytest.skip(f"Chromium did not start: {exc.message.splitlines()[0]}")
            yield chromium
            chromium.close()


def logged_in_context(
    browser: Browser,
    base_url: str,
    user: Any | None,
    *,
    locale: str = "en-GB",
    language: str | None = "en",
    viewport: dict[str, int] | None = None,
    timeout: int = DEFAULT_TIMEOUT_MS,
) -> BrowserContext:
    """A new browser context holding ``user``'s Django session cookie for ``base_url``
    (anonymous when ``user`` is None), and a django_language cookie unless ``language``
    is None. ``viewport`` (``{"width": ..., "height": ...}``) defaults to Playwright's."""
    cookies = []
    if user is not None:
        client = Client()
        client.force_login(user)
        session = client.cookies[SESSION_COOKIE].value
        cookies.append({"name": SESSION_COOKIE, "value": session, "url": base_url})
    if language is not None:
        cookies.append({"name": "django_language", "value": language, "url": base_url})
    options: dict[str, Any] = {"locale": locale}
    if viewport is not None:
        options["viewport"] = viewport
    context = browser.new_context(**options)
    context.set_default_timeout(timeout)
    if cookies:
        context.add_cookies(cookies)
    return context


def stay_on_this_machine(context: BrowserContext, outside: list[str]) -> None:
    """Abort every request of ``context`` that leaves the machine, noting it in ``outside``."""

    def only_loopback(route):
        if urlparse(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)


@pytest.fixture
def open_page(browser, live_server, transactional_db):
    """``open_page(user, path=None, *, locale="en-GB", language="en", page_errors=True,
    viewport=None, timeout=10_000)``: a page logged in as ``user`` (anonymous when None;
    at ``path`` when given). At the end of the test, fails if a request left the machine
    or (with ``page_errors``) a page threw an error."""
    contexts: list[BrowserContext] = []
    outside: list[str] = []
    errors: list[str] = []

    def open_as(
        user: Any | None,
        path: str | None = None,
        *,
        locale: str = "en-GB",
        language: str | None = "en",
        page_errors: bool = True,
        viewport: dict[str, int] | None = None,
        timeout: int = DEFAULT_TIMEOUT_MS,
    ) -> Page:
        context = logged_in_context(
            browser,
            live_server.url,
            user,
            locale=locale,
            language=language,
            viewport=viewport,
            timeout=timeout,
        )
        contexts.append(context)
        stay_on_this_machine(context, outside)
        page = context.new_page()
        if page_errors:
            page.on("pageerror", lambda exc: errors.append(str(exc)))
        if path is not None:
            page.goto(live_server.url + path)
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert outside == [], f"requests left the machine: {outside}"
    assert errors == [], f"the page threw: {errors}"


def axe_violations(page: Page, exclude: list[str] | None = None) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on ``page`` (leaving out the elements matched
    by the CSS selectors in ``exclude``), as "rule: targets" lines."""
    axe_js = resources.files("axe_playwright_python") / "axe.min.js"
    # Evaluated through the DevTools protocol, not added as an inline <script>: the
    # pages' Content-Security-Policy (script-src 'self') rightly refuses inline scripts.
    page.evaluate(axe_js.read_text(encoding="utf-8"))
    return page.evaluate(
        """async ([tags, exclude]) => (await axe.run(
                exclude.length ? {exclude: exclude} : document,
                {runOnly: {type: "tag", values: tags}}))
            .violations.map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))""",
        [WCAG_TAGS, exclude or []],
    )


def assert_accessible(page: Page, exclude: list[str] | None = None) -> None:
    """Fail if axe-core finds a WCAG 2.1 A/AA violation on ``page`` (outside ``exclude``)."""
    violations = axe_violations(page, exclude)
    assert violations == [], f"axe-core violations on {page.url}: {violations}"
