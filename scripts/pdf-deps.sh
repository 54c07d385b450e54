#!/usr/bin/env bash
# Fonts for the registry's PDFs (receipts, the register, reports): DejaVu Sans, which has
# the Romanian letters ș ț ă â î. Idempotent: does nothing when the fonts are there.
# Installs Debian's fonts-dejavu-core with apt-get when we are root; otherwise says what
# to do. The folder is the setting CETATEA_PDF_FONT_DIR (docs/configuration.md).
set -uo pipefail

DIR="${CETATEA_PDF_FONT_DIR:-/usr/share/fonts/truetype/dejavu}"

if [ -f "$DIR/DejaVuSans.ttf" ] && [ -f "$DIR/DejaVuSans-Bold.ttf" ]; then
  echo "pdf-deps: DejaVu Sans is in $DIR"
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "pdf-deps: DejaVu Sans is missing from $DIR and we cannot apt-get install it;" \
    "install fonts-dejavu-core or set CETATEA_PDF_FONT_DIR to a folder with DejaVuSans.ttf" >&2
  exit 1
fi
echo "pdf-deps: installing Debian's fonts-dejavu-core with apt-get"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-dejavu-core >/dev/null; then
  echo "pdf-deps: installed fonts-dejavu-core"
else
  echo "pdf-deps: apt-get install fonts-dejavu-core failed; set CETATEA_PDF_FONT_DIR" >&2
  exit 1
fi
