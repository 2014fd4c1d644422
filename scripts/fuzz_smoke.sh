#!/usr/bin/env bash
# A short smoke run of every fuzz target (20 s each, about 4 minutes with the build): not part of
# `swift test`; see README "Fuzzing". Usage: scripts/fuzz_smoke.sh [TARGET ...]
set -euo pipefail
exec "$(dirname "$0")/fuzz.sh" --time "${FUZZ_SMOKE_SECONDS:-20}" "$@"
