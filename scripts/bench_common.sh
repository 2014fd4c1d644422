# Shared by the side-by-side benchmark scripts (sourced from the repository root): configuration
# from the environment, a release build, and two helpers.
#   env: CELLS="lstm gru"  HIDDEN="128 256 512 1024"  THREADS=2  PYTHON=...  TORCH_BENCH=...
CELLS=${CELLS:-"lstm gru"}
HIDDEN=${HIDDEN:-"128 256 512 1024"}
THREADS=${THREADS:-2}
PYTHON=${PYTHON:-/root/.cache/charrnn-torch/bin/python}
TORCH_BENCH=${TORCH_BENCH:-../shared/bench/torch_charlstm.py}
swift build -c release >/dev/null
BIN=.build/release/charrnn

# field JSON KEY: the value of KEY in the JSON object (0 when absent or null).
field() { "$PYTHON" -c "import json,sys; d=json.loads(sys.argv[1]); print(d.get(sys.argv[2]) or 0)" "$1" "$2"; }
# best N…: the largest number.
best() { printf '%s\n' "$@" | sort -n | tail -1; }
