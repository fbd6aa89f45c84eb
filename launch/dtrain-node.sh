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

# On SIGTERM mpirun signals the ranks and kills them 1 s later by default; dtrain needs time to finish its step and
# write a checkpoint first.
options+=(--mca odls_base_sigkill_timeout 120)

exec mpirun "${options[@]}" -x OPENBLAS_NUM_THREADS -x OMP_NUM_THREADS ${OPENBLAS_CORETYPE:+-x OPENBLAS_CORETYPE} \
    -n "$ranks" "$dtrain" "$@"
