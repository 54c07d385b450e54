#!/usr/bin/env bash
# Browser for the browser tests (cetatea/portal/tests/test_browser.py): Debian's `chromium`.
# Idempotent: does nothing when /usr/bin/chromium is there. Installs it with apt-get when we
# are root; otherwise only says so and exits 0 (the browser tests then skip with a reason).
# Playwright's own browser downloads are never used; axe-core comes from requirements-dev.txt.
set -uo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "browser-deps: $CHROMIUM is installed"
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "browser-deps: $CHROMIUM is missing and we cannot apt-get install it (not root or no apt);" \
    "the browser tests will be skipped"
  exit 0
fi
echo "browser-deps: installing Debian's chromium with apt-get"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null; then
  echo "browser-deps: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
else
  echo "browser-deps: apt-get install chromium failed; the browser tests will be skipped"
fi
exit 0
