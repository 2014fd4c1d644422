#!/usr/bin/env bash
# Data-parallel training across "machines" made of network namespaces on this one machine.
#
# Builds HOSTS (2 or 3) network namespaces, each with one veth link into a bridge in a further
# "switch" namespace (10.213.X.1..HOSTS on a /24), and runs mpirun from the first host with every
# rank on its own host: Open MPI starts the remote daemons through a tiny rsh agent that runs
# `ip netns exec <host> …`, and `--mca btl tcp,self` with the veth subnet forces all MPI traffic
# (and Open MPI's own out-of-band traffic) through the namespaces' TCP stacks. Then it trains,
# checkpoints, resumes on a different number of ranks (HOSTS, then HOSTS − 1), checks the run,
# reports the bytes that crossed host 2's veth link, and removes everything it made on exit.
#
# Usage: scripts/mpi_netns.sh [--hosts N] [--charrnn PATH] [--corpus FILE] [--work DIR] [--keep]
#        scripts/mpi_netns.sh [--hosts N] --exec PROGRAM [ARGS…]   (runs PROGRAM on one rank per host
#        over the same network instead of the training check, e.g. scripts/mpi/allreduce_ab.c built)
#   --hosts    2 or 3 (default 3)
#   --charrnn  the binary (default .build/debug/charrnn)
#   --corpus   a text file (default: 20 kB of ../shared/corpora/tinyshakespeare.txt)
#   --work     folder for the run (default: a new temporary folder, removed unless --keep)
# Needs root and iproute2; exits 77 ("skipped") when namespaces cannot be made, 1 on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

hosts=3; charrnn=.build/debug/charrnn; corpus=""; work=""; keep=0; program=""; program_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --hosts) hosts="$2"; shift 2 ;;
        --charrnn) charrnn="$2"; shift 2 ;;
        --corpus) corpus="$2"; shift 2 ;;
        --work) work="$2"; shift 2 ;;
        --keep) keep=1; shift ;;
        --exec) program="$2"; shift 2; program_args=("$@"); break ;;
        *) echo "mpi_netns.sh: unknown option $1" >&2; exit 1 ;;
    esac
done
case "$hosts" in 2|3) ;; *) echo "mpi_netns.sh: --hosts must be 2 or 3, got $hosts" >&2; exit 1 ;; esac
if [ -n "$program" ]; then
    [ -x "$program" ] || { echo "mpi_netns.sh: --exec $program is not an executable" >&2; exit 1; }
    charrnn="$program"
fi
[ -x "$charrnn" ] || { echo "mpi_netns.sh: --charrnn $charrnn is not an executable (swift build first)" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "mpi_netns.sh: skipped: mpirun (openmpi-bin) is not installed"; exit 77; }
command -v ip >/dev/null || { echo "mpi_netns.sh: skipped: ip (iproute2) is not installed"; exit 77; }
charrnn="$(cd "$(dirname "$charrnn")" && pwd)/$(basename "$charrnn")"

# Names unique to this invocation (interface names stay within 15 characters).
tag="c$$"
subnet_octet=$(( ($$ % 200) + 20 ))
subnet="10.213.$subnet_octet"
switch="$tag-sw"
made=()
cleanup() {
    local status=$?
    for ns in "${made[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    if [ "$keep" = 0 ] && [ -n "${scratch:-}" ]; then rm -rf "$scratch"; fi
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! ip netns add "$switch" 2>/dev/null; then
    echo "mpi_netns.sh: skipped: cannot create network namespaces here (needs root / CAP_SYS_ADMIN)"
    exit 77
fi
made+=("$switch")
ip -n "$switch" link add br0 type bridge
ip -n "$switch" link set br0 up
ip -n "$switch" link set lo up
for i in $(seq 1 "$hosts"); do
    ns="$tag-h$i"
    ip netns add "$ns"; made+=("$ns")
    ip link add "${tag}h${i}" type veth peer name "${tag}s${i}"
    ip link set "${tag}h${i}" netns "$ns"
    ip link set "${tag}s${i}" netns "$switch"
    ip -n "$ns" link set "${tag}h${i}" name eth0
    ip -n "$ns" addr add "$subnet.$i/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    ip -n "$switch" link set "${tag}s${i}" master br0
    ip -n "$switch" link set "${tag}s${i}" up
done

scratch="$(mktemp -d /tmp/charrnn-netns.XXXXXX)"
[ -n "$work" ] || work="$scratch"
mkdir -p "$work"
# The rsh agent: Open MPI runs `agent HOST COMMAND…`; HOST is an address of one of the namespaces.
agent="$scratch/netns-agent.sh"
cat > "$agent" <<AGENT
#!/bin/sh
host="\$1"; shift
exec ip netns exec "$tag-h\${host##*.}" /bin/sh -c "\$*"
AGENT
chmod +x "$agent"
hostfile="$scratch/hosts"
for i in $(seq 1 "$hosts"); do echo "$subnet.$i slots=1"; done > "$hostfile"

if [ -z "$corpus" ]; then
    corpus="$work/corpus.txt"
    if [ -f ../shared/corpora/tinyshakespeare.txt ]; then head -c 20000 ../shared/corpora/tinyshakespeare.txt > "$corpus"
    else for _ in $(seq 1 300); do echo "the quick brown fox jumps over the lazy dog, again and again."; done > "$corpus"; fi
fi

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi() {  # mpi NP ARGS… : mpirun from host 1 over the namespaces' TCP
    local np="$1"; shift
    ip netns exec "$tag-h1" mpirun -np "$np" --hostfile "$hostfile" --bind-to none \
        --mca plm_rsh_agent "$agent" --mca plm_rsh_no_tree_spawn 1 \
        --mca btl tcp,self --mca btl_tcp_if_include "$subnet.0/24" --mca oob_tcp_if_include "$subnet.0/24" \
        "$charrnn" "$@"
}
bytes() { ip netns exec "$tag-h2" cat /sys/class/net/eth0/statistics/rx_bytes; }

if [ -n "$program" ]; then
    mpi "$hosts" "${program_args[@]}"
    exit 0
fi

out="$work/run"
flags=(--hidden 32 --embed 16 --layers 2 --bptt 20 --batch 6 --threads 1 --eval-every 4 --checkpoint-every 4 --quiet)
before=$(bytes)
echo "mpi_netns.sh: training on $hosts hosts ($subnet.1-$hosts) to step 8"
mpi "$hosts" train "$corpus" --out "$out" --max-steps 8 "${flags[@]}"
after_first=$(bytes)
resume_np=$((hosts - 1))
echo "mpi_netns.sh: resuming on $resume_np hosts to step 12"
mpi "$resume_np" train --resume --out "$out" --max-steps 12 --quiet
after=$(bytes)

steps=$(grep -c '"kind":"train"' "$out/metrics.jsonl")
resumes=$(grep -c '"kind":"resume"' "$out/metrics.jsonl")
[ "$steps" = 12 ] && [ "$resumes" = 1 ] && [ -f "$out/latest/model.safetensors" ] \
    || { echo "mpi_netns.sh: the run is incomplete: $steps train records, $resumes resume records" >&2; exit 1; }
grep -Eq "\"step\" *: *12,?\$" "$out/latest/trainer-state.json" \
    || { echo "mpi_netns.sh: latest/ does not hold step 12" >&2; exit 1; }
echo "mpi_netns.sh: ok: 12 steps ($hosts ranks, then $resume_np after --resume); host 2 received $((after_first - before)) bytes over its veth in the first run, $((after - after_first)) in the second"
