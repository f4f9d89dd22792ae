#!/usr/bin/env bash
# `npm test` runs this first (pretest): the browser tests (test/cookie-browser.e2e-spec.ts) drive
# Debian's Chromium. Installs it from Debian's packages when it is missing and we may (root with
# apt-get); otherwise says how, and fails rather than letting the browser tests be skipped.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "pretest: installing Debian's chromium for the browser tests" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  [ -x "$CHROMIUM" ] && exit 0
fi
echo "pretest: Chromium is not at $CHROMIUM. Install Debian's (sudo apt-get install chromium) or set CHROMIUM_PATH." >&2
exit 1
