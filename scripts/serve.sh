#!/usr/bin/env bash
# Serve Cetatea on http://127.0.0.1:8000 with its background worker and the phone
# robot's SIP endpoint and FastAGI server beside it. All stop together (Ctrl-C stops the server; the trap stops the worker).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
# The worker exits when the database goes away (a restart); like systemd's Restart=always
# (deploy/systemd/cetatea-worker@.service) it is started again 5 s later.
( child=""; trap 'kill $child 2>/dev/null; exit 0' TERM INT
  while true; do
    $BIN/python manage.py db_worker --queue-name '*' & child=$!
    wait "$child" || true; sleep 5
  done ) &
WORKER=$!
# Periodic jobs are management commands; here a loop stands in for the system's timer.
( n=0; while sleep 60; do
    $BIN/python manage.py send_alerts >/dev/null || true
    # Notifications whose attempt is due (retries with backoff; safe to run twice).
    $BIN/python manage.py retry_notifications >/dev/null || true
    # Escalations every 5 minutes (idempotent: a case and level is escalated once).
    n=$((n + 1)); if [ $((n % 5)) -eq 0 ]; then $BIN/python manage.py escalate_cases >/dev/null || true; fi
    # Background tasks whose worker was killed go back to the queue (cetatea/core/taskqueue.py).
    if [ $((n % 5)) -eq 0 ]; then $BIN/python manage.py requeue_stale_tasks >/dev/null || true; fi
    # The registry's deadline digest every 5 minutes (one mail per department a day).
    if [ $((n % 5)) -eq 0 ]; then $BIN/python manage.py registry_alerts >/dev/null || true; fi
    # Task reminders every 5 minutes (idempotent: each task, kind and due time once).
    if [ $((n % 5)) -eq 0 ]; then $BIN/python manage.py task_reminders >/dev/null || true; fi
    # Missed intranet messages by e-mail every 5 minutes (each message mailed at most once).
    if [ $((n % 5)) -eq 0 ]; then $BIN/python manage.py chat_digest >/dev/null || true; fi
    # The management overview's counts every 5 minutes (incremental and idempotent).
    if [ $((n % 5)) -eq 0 ]; then $BIN/python manage.py insights_refresh --quiet >/dev/null || true; fi
    # Open data (MEDIA_ROOT/open-data/): republished once the files are a day old (after
    # the refresh above); a cheap no-op otherwise.
    if [ $((n % 10)) -eq 0 ]; then $BIN/python manage.py publish_open_data --if-older-than 24 >/dev/null || true; fi
    # Retention of personal data (docs/privacy.md): daily, first a minute after start (idempotent).
    if [ $((n % 1440)) -eq 1 ]; then $BIN/python manage.py apply_retention >/dev/null || true; fi
    # Each department's PDF report of the previous month, on the 1st (hourly that day; overwrites).
    if [ $((n % 60)) -eq 0 ] && [ "$(date +%d)" = "01" ]; then $BIN/python manage.py insights_monthly_reports >/dev/null || true; fi
  done ) &
TIMER=$!
# The phone robot's SIP endpoint (docs/phone-robot-sip.md): a PBX or a soft phone calls
# sip:robot@127.0.0.1:5070. Prompts need espeak-ng and sox (make run installs them).
$BIN/python manage.py robot_sip --host 127.0.0.1 --port "${CETATEA_ROBOT_SIP_PORT:-5070}" &
ROBOT=$!
# The same robot for Asterisk over FastAGI (docs/phone-robot-agi.md):
# exten => 100,1,AGI(agi://127.0.0.1:4573/robot)
$BIN/python manage.py robot_agi --host 127.0.0.1 --port "${CETATEA_ROBOT_AGI_PORT:-4573}" &
AGI=$!
trap 'kill $WORKER $TIMER $ROBOT $AGI 2>/dev/null || true' EXIT INT TERM
$BIN/python manage.py runserver "${CETATEA_BIND:-127.0.0.1:8000}"
