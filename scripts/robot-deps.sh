#!/usr/bin/env bash
# Programs for the phone robot and its tests (cetatea/telephony/robot/): espeak-ng (the
# Romanian voice), sox (resampling to 8 kHz) and sipp (Debian's sip-tester, the caller in
# the end-to-end test). Idempotent: does nothing when all three are there. Installs them
# with apt-get when we are root; otherwise only says so and exits 0 (the tests that need
# them then skip with a reason).
set -uo pipefail

missing=()
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
command -v sox >/dev/null 2>&1 || missing+=(sox)
command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)

if [ "${#missing[@]}" = "0" ]; then
  echo "robot-deps: espeak-ng, sox and sipp are installed"
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "robot-deps: missing ${missing[*]} and we cannot apt-get install them (not root or no apt);" \
    "the phone robot's audio and SIP tests will be skipped"
  exit 0
fi
echo "robot-deps: installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "robot-deps: installed ${missing[*]}"
else
  echo "robot-deps: apt-get install ${missing[*]} failed; the tests that need them will be skipped"
fi
exit 0
