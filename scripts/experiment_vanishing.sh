#!/bin/sh
# Reproduces the "Vanishing gradients, made visible" table and screenshot of README.md:
# builds in release, runs `charrnn experiment vanishing --seeds 1` (the one-seed sketch) on corpora/synth/brackets.txt, writes
# runs/vanishing/{results.md,report.html,…} and, when chromium is installed, docs/report.png
# (the gradient-flow and long-range part of the report).
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/vanishing}
swift build -c release
.build/release/charrnn experiment vanishing --out "$OUT" --seeds 1 "$@"
if command -v chromium >/dev/null 2>&1; then
    # Crop by shifting the report inside an iframe: chromium's headless screenshot has no clip option.
    cat > "$OUT/crop.html" <<'HTML'
<!DOCTYPE html><html><body style="margin:0;overflow:hidden"><iframe src="report.html" scrolling="no" style="position:absolute;top:-2490px;left:0;width:1050px;height:5200px;border:0"></iframe></body></html>
HTML
    mkdir -p docs
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1050,1960 \
        --screenshot="$PWD/docs/report.png" "file://$PWD/$OUT/crop.html" 2>/dev/null
fi
