#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/Targets (ASan + libFuzzer coverage, into .build-fuzz)
# and runs them on their seed corpora in Fuzz/corpus/<target>.
#
#   scripts/fuzz.sh [--build-only] [--time SECONDS] [--runs N] [TARGET ...]
#
# Each target runs until N inputs (default 1,000,000) or SECONDS (default 600) have passed, whichever
# comes first, with a 5 s per-input timeout and a 2 GB RSS limit; the targets run one after the other
# (start two copies of the script with different targets to use two cores). New interesting inputs go
# to .build-fuzz/corpus/<target> (the committed seeds are never modified); a crashing input is saved
# as .build-fuzz/artifacts/<target>-crash-<sha1>, and the script exits non-zero. With no TARGET, all
# targets run. Extra libFuzzer flags can be given in FUZZ_FLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."

targets_all=(FuzzSafetensors FuzzRunConfiguration FuzzVocabulary FuzzTrainerState FuzzCorpusReader
             FuzzZipArchive FuzzUTF8Validation FuzzLRSchedule)
build_only=0 seconds=600 runs=1000000 targets=()
while (($#)); do
    case "$1" in
        --build-only) build_only=1 ;;
        --time) seconds="${2:?--time needs a number of seconds}"; shift ;;
        --runs) runs="${2:?--runs needs a number of inputs}"; shift ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
        *) targets+=("$1") ;;
    esac
    shift
done
((${#targets[@]})) || targets=("${targets_all[@]}")
for target in "${targets[@]}"; do
    [[ " ${targets_all[*]} " == *" $target "* ]] || { echo "fuzz.sh: unknown target $target (known: ${targets_all[*]})" >&2; exit 1; }
done

# The fuzz targets exist in Package.swift only when CHARRNN_FUZZ=1, and they alone link libFuzzer
# (-sanitize=fuzzer at link time would give the charrnn executable libFuzzer's main). Every module
# gets ASan and the coverage -sanitize=fuzzer would add; C targets too. -enable-testing lets targets
# reach internal parsers through @testable import.
export CHARRNN_FUZZ=1
swift build -c release --scratch-path .build-fuzz \
    -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,indirect-calls,trace-cmp,inline-8bit-counters,pc-table \
    -Xswiftc -enable-testing -Xcc -fsanitize=fuzzer-no-link,address 2>&1 | grep -v "Cannot export local symbol" || true
bin=.build-fuzz/release
for target in "${targets[@]}"; do
    [[ -x "$bin/$target" ]] || { echo "fuzz.sh: build failed: $bin/$target is missing" >&2; exit 1; }
done
((build_only)) && exit 0

mkdir -p .build-fuzz/artifacts
# Leaks inside the Swift runtime's own libraries that are not the project's (see the file).
export LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
for target in "${targets[@]}"; do
    mkdir -p ".build-fuzz/corpus/$target"
    dict=()
    [[ -f "Fuzz/dict/$target.dict" ]] && dict=(-dict="Fuzz/dict/$target.dict")
    echo "== $target: up to $runs inputs or $seconds s"
    set +e
    # shellcheck disable=SC2086
    "$bin/$target" -runs="$runs" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix=".build-fuzz/artifacts/$target-" "${dict[@]}" ${FUZZ_FLAGS:-} \
        ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" 2>&1 | tee ".build-fuzz/$target.log" \
        | grep -E "^(#[0-9]+\s+DONE|Done|==[0-9]+==ERROR|SUMMARY|stat::(number_of_executed_units|peak_rss_mb)|Fatal|.*precondition|.*runtime failure)"
    status=${PIPESTATUS[0]}
    set -e
    if ((status != 0)); then
        echo "fuzz.sh: $target failed (exit $status); log: .build-fuzz/$target.log" >&2
        exit "$status"
    fi
done
