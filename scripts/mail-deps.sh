#!/usr/bin/env bash
# IMAP server for the e-mail-in tests (cetatea/inbox/tests): Debian's Dovecot.
# Idempotent: does nothing when dovecot is there. Installs dovecot-imapd with apt-get when
# we are root; otherwise only says so and exits 0 (those tests then skip with a reason).
# The tests start their own Dovecot on a free loopback port with a config in a temp dir;
# the system service is never enabled or configured by this script.
set -uo pipefail

if command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; then
  echo "mail-deps: dovecot is installed"
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "mail-deps: dovecot is missing and we cannot apt-get install it (not root or no apt);" \
    "the e-mail-in tests will be skipped"
  exit 0
fi
echo "mail-deps: installing Debian's dovecot-imapd with apt-get"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq && apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null; then
  echo "mail-deps: installed $(/usr/sbin/dovecot --version 2>/dev/null || echo dovecot)"
else
  echo "mail-deps: apt-get install dovecot-imapd failed; the e-mail-in tests will be skipped"
fi
exit 0
