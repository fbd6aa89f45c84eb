#!/usr/bin/env bash
# How dtrain scales, against PyTorch DDP, and what an alpha-beta model of the allreduce predicts beyond one node.
#
#   launch/scaling.sh [--rounds N] [--models "lenet5 resnet20 resnet50"]
#
# 1. For each model, 1 and 2 ranks x 1 thread of `dtrain bench` (bound to a core each) and
#    of PyTorch DDP over gloo (launch/ddp_pytorch.py, the same models and images per rank, tcmalloc preloaded),
#    alternating within every round so that the machine's drift touches both alike; then 4 and 8 dtrain ranks
#    oversubscribed (for correctness: the multi-rank tests check their results; their speed means nothing here).
#    Prints img/s, the efficiency (2-rank img/s over twice the 1-rank img/s) and dtrain / PyTorch at 2 ranks:
#    medians with min-max over the rounds.
# 2. The allreduce's alpha (latency of a 1-float allreduce) and beta (seconds per byte, from 4 MB and 100 MB) over
#    shared memory and over the two-namespace TCP link of launch/two-hosts.sh, and ResNet-50's exposed
#    communication on that link.
# 3. A ring-allreduce model with those constants: ResNet-50 at 32 images per rank (compute time measured here at
#    1 rank) on 8 to 1024 ranks at 25 and 100 Gbit/s, with and without overlap.
# Speeds on this machine move by 20-40% from run to run: read ratios within a round.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
models="lenet5 resnet20 resnet50"
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --models) models="$2"; shift 2 ;;
        *) echo "usage: launch/scaling.sh [--rounds N] [--models \"lenet5 resnet20 resnet50\"]" >&2; exit 2 ;;
    esac
done

python=${PYTHON:-.build/torch-venv/bin/python}
if ! "$python" -c "import torch" 2>/dev/null; then
    python3 -m venv .build/torch-venv
    # The +cpu build: an unpinned `pip install torch` pulls the CUDA libraries.
    .build/torch-venv/bin/pip install --quiet torch==2.13.0+cpu numpy
    python=.build/torch-venv/bin/python
fi
python=$(cd "$(dirname "$python")" && pwd)/$(basename "$python")
tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
if [ ! -e "$tcmalloc" ]; then
    apt-get install -y libtcmalloc-minimal4 >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y libtcmalloc-minimal4 >/dev/null; }
fi
[ -x .build/release/dtrain ] && [ -x .build/release/dtrain-comm-check ] || swift build -c release --build-tests

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
results=$scratch/results
# model: sample shape, classes, images per rank, timed steps
declare -A shape=([lenet5]=1,28,28 [resnet20]=3,32,32 [resnet50]=3,224,224)
declare -A classes=([lenet5]=10 [resnet20]=10 [resnet50]=1000)
declare -A batch=([lenet5]=64 [resnet20]=64 [resnet50]=16)
declare -A steps=([lenet5]=100 [resnet20]=10 [resnet50]=3)
# lenet5 always: the oversubscribed runs below train it whichever models are measured.
for model in $models $([[ " $models " == *" lenet5 "* ]] || echo lenet5); do
    .build/release/dtrain pack synthetic --output "$scratch/$model.h5" --count $((batch[$model] * 8)) \
        --shape "${shape[$model]}" --classes "${classes[$model]}" >/dev/null
    cat >"$scratch/$model.toml" <<CONFIG
[run]
out_dir = "$scratch/run-$model"
[data]
train = "$scratch/$model.h5"
global_batch = ${batch[$model]}
[model]
name = "$model"
[optimizer]
name = "momentum"
lr = 0.01
weight_decay = 1e-4
CONFIG
done

# One BLAS thread per rank, each rank bound to a core while there are cores enough.
ranks_of_one_thread() {  # ranks
    local options=(-n "$1" -x OPENBLAS_NUM_THREADS=1)
    [ "$(id -u)" -ne 0 ] || options+=(--allow-run-as-root)
    if (($1 <= $(nproc))); then options+=(--bind-to core); else options+=(--oversubscribe --bind-to none); fi
    echo "mpirun ${options[*]} .build/release/dtrain"
}
dtrain_bench() {  # model ranks [runner]
    local model=$1 ranks=$2 line
    line=$(${3:-$(ranks_of_one_thread "$ranks")} bench "$scratch/$model.toml" --steps "${steps[$model]}" \
        --set data.global_batch=$((batch[$model] * ranks)) 2>&1 | grep '^bench:') || { echo "scaling: dtrain bench $model on $ranks ranks failed" >&2; exit 1; }
    echo "$line" >&2
    echo "dtrain $model $ranks $(sed 's/.*: \([0-9.]*\) img\/s.*/\1/' <<<"$line")" >>"$results"
}
torch_bench() {  # model ranks
    local model=$1 ranks=$2 json
    json=$(cd launch && LD_PRELOAD=$tcmalloc OMP_NUM_THREADS=1 "$python" ddp_pytorch.py --model "$model" \
        --ranks "$ranks" --batch "${batch[$model]}" --steps "${steps[$model]}")
    echo "pytorch-ddp $model $ranks: $json" >&2
    echo "pytorch $model $ranks $("$python" -c "import json,sys; print(json.loads(sys.argv[1])['images_per_second'])" "$json")" >>"$results"
}

for round in $(seq 1 "$rounds"); do
    for model in $models; do
        echo "scaling: round $round/$rounds, $model (${batch[$model]} images per rank)" >&2
        for ranks in 1 2; do
            dtrain_bench "$model" "$ranks"
            torch_bench "$model" "$ranks"
        done
    done
done
echo "scaling: lenet5 on 4 and 8 ranks, oversubscribed (correctness only)" >&2
for ranks in 4 8; do dtrain_bench lenet5 "$ranks"; done

# The allreduce's constants: shared memory, then the shaped TCP link between two namespace hosts.
bindings=(--bind-to core)
[ "$(id -u)" -ne 0 ] || bindings+=(--allow-run-as-root)
mpirun "${bindings[@]}" -n 2 .build/release/dtrain-comm-check bench >"$scratch/shm" 2>&1
echo "scaling: shared memory: $(tr '\n' ' ' <"$scratch/shm")" >&2
link="not measured"
if launch/two-hosts.sh .build/release/dtrain-comm-check bench >"$scratch/tcp" 2>"$scratch/tcp.err"; then
    link=$(grep '^two-hosts:' "$scratch/tcp.err" | sed 's/^two-hosts: //')
    echo "scaling: TCP link ($link): $(grep -v '^two-hosts' "$scratch/tcp" | tr '\n' ' ')" >&2
    if [[ " $models " == *" resnet50 "* ]]; then
        dtrain_bench resnet50 2 "launch/two-hosts.sh .build/release/dtrain" 2>"$scratch/r50-link"
        cat "$scratch/r50-link" >&2
        grep '^bench:' "$scratch/r50-link" >"$scratch/r50-link-line" || true
        sed -i '$ s/^dtrain resnet50 2/two-hosts resnet50 2/' "$results"
    fi
else
    echo "scaling: the two-host link could not be built: $(cat "$scratch/tcp.err")" >&2
    : >"$scratch/tcp"
fi

"$python" - "$results" "$scratch/shm" "$scratch/tcp" "$scratch/r50-link-line" "$link" <<'PYTHON'
import os, re, statistics, sys

results_path, shm_path, tcp_path, r50_path, link = sys.argv[1:6]
rows = [line.split() for line in open(results_path)]
def rates(engine, model, ranks):
    return [float(r[3]) for r in rows if r[0] == engine and r[1] == model and int(r[2]) == ranks]
def cell(values, digits=1):
    if not values: return "-"
    return f"{statistics.median(values):,.{digits}f} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"

models = [m for m in ["lenet5", "resnet20", "resnet50"] if rates("dtrain", m, 1)]
print("\n| model | images/rank | dtrain 1 rank | dtrain 2 ranks | dtrain efficiency % | PyTorch DDP 1 rank | PyTorch DDP 2 ranks | PyTorch efficiency % | dtrain / PyTorch at 2 ranks |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
batch = {"lenet5": 64, "resnet20": 64, "resnet50": 16}
for m in models:
    d1, d2, t1, t2 = rates("dtrain", m, 1), rates("dtrain", m, 2), rates("pytorch", m, 1), rates("pytorch", m, 2)
    # Rounds pair up: efficiency and ratio within a round, then their median over the rounds.
    de = [100 * b / (2 * a) for a, b in zip(d1, d2)]
    te = [100 * b / (2 * a) for a, b in zip(t1, t2)]
    ratio = [a / b for a, b in zip(d2, t2)]
    print(f"| {m} | {batch[m]} | {cell(d1)} | {cell(d2)} | {cell(de)} | {cell(t1)} | {cell(t2)} | {cell(te)} | {cell(ratio, 2)}x |")
over = {n: rates("dtrain", "lenet5", n) for n in (4, 8)}
print("\nlenet5 oversubscribed on this machine's cores (correctness runs): "
      + ", ".join(f"{n} ranks {cell(v)} img/s" for n, v in over.items() if v))

def constants(path):
    text = open(path).read() if os.path.exists(path) else ""
    small = re.search(r"allreduce of 1 float: ([0-9.]+) us", text)
    four = re.search(r"allreduce 4 MB Float: mean ([0-9.]+) ms", text)
    hundred = re.search(r"allreduce 100 MB Float: mean ([0-9.]+) ms", text)
    if not (small and four and hundred): return None
    beta = (float(hundred.group(1)) - float(four.group(1))) * 1e-3 / 96e6  # seconds per byte, 2 ranks: T = 2a + n b
    return float(small.group(1)) * 1e-6 / 2, beta
shm, tcp = constants(shm_path), constants(tcp_path)
print("\n| allreduce constants (2 ranks, T = 2 alpha + n beta) | alpha (us) | 1 / beta (GB/s) |")
print("| --- | --- | --- |")
for name, c in (("shared memory", shm), (f"TCP between namespace hosts ({link})", tcp)):
    print(f"| {name} | " + (f"{c[0] * 1e6:.1f} | {1 / c[1] / 1e9:.2f} |" if c else "not measured | |"))
if os.path.exists(r50_path) and open(r50_path).read():
    line = open(r50_path).read()
    step = float(re.search(r"step ([0-9.]+) ms", line).group(1))
    exposed = float(re.search(r"comm ([0-9.]+) exposed", line).group(1))
    flight = float(re.search(r"\(([0-9.]+) in flight\)", line).group(1))
    print(f"\nresnet50, 2 ranks x 16 images on the two namespace hosts: step {step:.0f} ms, exposed communication "
          f"{exposed:.1f} ms ({100 * exposed / step:.2f}% of the step), {flight:.0f} ms in flight")

# The model: ring allreduce T(p, n) = 2 (p - 1) alpha + 2 (p - 1) / p * n / bandwidth. Compute per step from
# dtrain's 1-rank ResNet-50 rate scaled to 32 images; backward is two thirds of it. Overlapped, the buckets travel
# during backward and only the last (25 MB, ready when backward ends) or what backward cannot cover is exposed.
r1 = rates("dtrain", "resnet50", 1)
if r1:
    compute = 32 / statistics.median(r1)
    alpha = tcp[0] if tcp else 25e-6
    n, bucket = 25_557_032 * 4, 25 * 2**20
    print(f"\nalpha-beta model, resnet50 at 32 images per rank: compute {compute:.2f} s per step (dtrain, 1 rank, this "
          f"machine), {n / 1e6:.1f} MB of gradients, alpha {alpha * 1e6:.1f} us (the TCP link above), ring allreduce")
    print("\n| ranks | link | allreduce (ms) | step without overlap (s) | efficiency | step with overlap (s) | efficiency |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for gbit in (25, 100):
        bandwidth = gbit * 1e9 / 8
        for p in (8, 64, 256, 1024):
            ring = lambda size: 2 * (p - 1) * alpha + 2 * (p - 1) / p * size / bandwidth
            total, last = ring(n), ring(bucket)
            exposed = max(last, total - 2 / 3 * compute)
            print(f"| {p} | {gbit} Gbit/s | {1e3 * total:.0f} | {compute + total:.2f} | {100 * compute / (compute + total):.1f}% "
                  f"| {compute + exposed:.2f} | {100 * compute / (compute + exposed):.1f}% |")
PYTHON
