#!/usr/bin/env bash
# Runs dtrain with N ranks on this node, with the thread settings that keep ranks from fighting over cores:
#   launch/dtrain-node.sh RANKS CONFIG.toml [dtrain options...]
# Each rank gets cores / RANKS OpenBLAS threads (at least one) and is bound to its cores when they suffice;
# more ranks than cores run oversubscribed with one thread each, unbound.
set -euo pipefail

if (($# < 2)); then
    echo "usage: $0 RANKS CONFIG.toml [dtrain options...]" >&2
    exit 2
fi
ranks=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
dtrain=${DTRAIN:-$root/.build/release/dtrain}
[[ -x $dtrain ]] || { echo "$0: $dtrain not built; run: swift build -c release" >&2; exit 2; }

cores=$(nproc)
threads=$((cores / ranks))
options=()
if ((threads >= 1)); then
    options+=(--bind-to core --map-by "slot:PE=$threads")
else
    threads=1
    options+=(--oversubscribe --bind-to none)
fi
[[ $(id -u) -ne 0 ]] || options+=(--allow-run-as-root)

# Debian's OpenBLAS 0.3.21 predates Zen 5 and falls back to AVX2 kernels; on CPUs with AVX-512 the SkylakeX
# kernels are twice as fast (and equally correct). Respect a choice the user made.
if [[ -z ${OPENBLAS_CORETYPE:-} ]] && grep -qw avx512f /proc/cpuinfo; then
    export OPENBLAS_CORETYPE=SkylakeX
fi
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads

# Open MPI's mpirun forwards SIGUSR1 to the ranks but not SIGTERM or SIGINT (it ends the job itself), so this
# wrapper turns a SIGTERM or SIGINT it receives into SIGUSR1 for mpirun: every rank then stops at the next step
# boundary, writes a checkpoint and exits with status 75.
mpirun "${options[@]}" -x OPENBLAS_NUM_THREADS -x OMP_NUM_THREADS ${OPENBLAS_CORETYPE:+-x OPENBLAS_CORETYPE} \
    -n "$ranks" "$dtrain" "$@" &
job=$!
trap 'kill -USR1 $job' TERM INT
while true; do
    wait "$job" && exit 0
    status=$?
    # wait returns early (status > 128) when a trapped signal arrives; keep waiting while mpirun still runs.
    kill -0 "$job" 2>/dev/null || exit "$status"
done
