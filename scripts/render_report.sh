#!/usr/bin/env bash
# Renders a report HTML file with headless Chromium: a PNG screenshot, the parsed DOM and the browser log.
#
#   scripts/render_report.sh report.html out.png [WIDTHxHEIGHT]
#
# Writes out.png, out.png.dom.html (DOM after parsing, from --dump-dom) and out.png.log (stderr of
# the browser, where console messages appear). Exits 77 when no Chromium is installed
# (install it with: apt-get install -y chromium). Uses $CHROMIUM when set.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 report.html out.png [WIDTHxHEIGHT]" >&2
  exit 2
fi
html="$1"; png="$2"; size="${3:-1200x3000}"
if [ ! -f "$html" ]; then echo "$0: no such file: $html" >&2; exit 2; fi
browser="${CHROMIUM:-}"
if [ -z "$browser" ]; then
  for candidate in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$candidate" >/dev/null 2>&1; then browser="$(command -v "$candidate")"; break; fi
  done
fi
if [ -z "$browser" ]; then echo "$0: chromium not found (apt-get install -y chromium)" >&2; exit 77; fi
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
url="file://$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars
       --user-data-dir="$profile" --no-first-run --disable-extensions)
timeout 120 "$browser" "${flags[@]}" --enable-logging=stderr --v=0 \
  --screenshot="$png" --window-size="${size/x/,}" "$url" 2>"$png.log" >/dev/null
timeout 120 "$browser" "${flags[@]}" --dump-dom "$url" >"$png.dom.html" 2>>"$png.log"
if [ ! -s "$png" ]; then echo "$0: no screenshot written (see $png.log)" >&2; exit 1; fi
if grep -E 'CONSOLE|Uncaught|Refused to' "$png.log" >/dev/null; then
  echo "$0: console messages while rendering:" >&2
  grep -E 'CONSOLE|Uncaught|Refused to' "$png.log" >&2
  exit 3
fi
echo "$png"
