#!/usr/bin/env bash
# Ingest benchmark: read + gunzip + UTF-8 check + NFC + grapheme segmentation + encoding to ids, release build.
# Prints one line per corpus (best of N runs, MB/s of decoded text, peak RSS of the process).
# Usage: scripts/bench_ingest.sh [CORPORA_DIR]   (default ../shared/corpora or $CHARRNN_CORPUS_MIRROR)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-${CHARRNN_CORPUS_MIRROR:-../shared/corpora}}"
[ -d "$DIR" ] || { echo "bench_ingest: no corpora at $DIR" >&2; exit 1; }
swift build -c release --product charrnn >/dev/null
BIN=.build/release/charrnn
for f in tinyshakespeare.txt tinyshakespeare.txt.gz code/sqlite_src.txt.gz code/lua_src.txt.gz wikitext-2 \
         multiscript/it_divina_commedia.txt.gz multiscript/zh_classics.txt.gz multiscript/he_genesis_wlc.txt.gz; do
    [ -e "$DIR/$f" ] && "$BIN" corpus bench "$DIR/$f" --repeats 5
done
# Everything at once (a directory: all files, recursively).
"$BIN" corpus bench "$DIR" --repeats 3
# Memory at scale: a ~100 MB corpus (sqlite sources ×17), one run, gzip -1 compressed.
if [ -e "$DIR/code/sqlite_src.txt.gz" ]; then
    BIG=$(mktemp -d)
    trap 'rm -rf "$BIG"' EXIT
    for _ in $(seq 17); do gzip -dc "$DIR/code/sqlite_src.txt.gz"; done | gzip -1 > "$BIG/sqlite_x17.txt.gz"
    "$BIN" corpus bench "$BIG/sqlite_x17.txt.gz" --repeats 1
fi
