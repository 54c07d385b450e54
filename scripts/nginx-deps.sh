#!/usr/bin/env bash
# nginx for the production stack on loopback (bench/prod.py: the load test bench/load.py
# and the fault tests run deploy/nginx/cetatea.conf with it). Idempotent: does nothing when
# nginx is there. Installs Debian's nginx-light (nginx when that package is missing) with
# apt-get when we are root; otherwise only says so and exits 0 (the load test then stops
# with a reason). The package's own service is not needed: bench/prod.py starts nginx with
# a configuration of its own.
set -uo pipefail

if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  echo "nginx-deps: nginx is installed"
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "nginx-deps: nginx is missing and we cannot apt-get install it (not root or no apt);" \
    "the load test (bench/load.py) needs it"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
for package in nginx-light nginx; do
  if apt-cache show "$package" >/dev/null 2>&1; then
    echo "nginx-deps: installing $package with apt-get"
    if apt-get install -y -qq --no-install-recommends "$package" >/dev/null; then
      echo "nginx-deps: installed $package"
      exit 0
    fi
  fi
done
echo "nginx-deps: apt-get install nginx failed; the load test (bench/load.py) needs it"
exit 0
