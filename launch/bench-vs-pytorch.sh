#!/usr/bin/env bash
# dtrain against PyTorch on the same models, batches and thread counts, in one run on this machine.
#
#   launch/bench-vs-pytorch.sh [--rounds N] [--runs "lenet5:1 resnet20:1 resnet50:1 resnet50:2"]
#
# Each run is MODEL:THREADS. Every round runs, for every run, dtrain-benchmark, PyTorch out of the box, and PyTorch
# at its best (tcmalloc preloaded and channels_last), one after the other, so that the machine's drift touches all
# three alike. The table gives the median images/s with the range over the rounds, peak resident memory, and the
# ratio of dtrain to PyTorch at its best, taken within each round (the machine's drift between rounds cancels):
# its median with the range over the rounds. Each measurement's JSON line goes to stderr as it is taken. PyTorch (the
# CPU-only wheel, pinned) goes into a venv under .build; it is needed by this script only, never by the build or the
# tests.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
runs="lenet5:1 resnet20:1 resnet50:1 resnet50:2"
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        *) echo "usage: launch/bench-vs-pytorch.sh [--rounds N] [--runs \"MODEL:THREADS ...\"]" >&2; exit 2 ;;
    esac
done

tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
if [ ! -e "$tcmalloc" ]; then
    apt-get install -y libtcmalloc-minimal4 >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y libtcmalloc-minimal4 >/dev/null; }
fi
venv=.build/torch-venv
if ! "$venv/bin/python" -c "import torch, numpy" 2>/dev/null; then
    python3 -m venv "$venv"
    # The +cpu build: an unpinned `pip install torch` pulls the CUDA libraries.
    "$venv/bin/pip" install --quiet torch==2.13.0+cpu numpy
fi
# Always: a benchmark older than the sources would measure old code.
swift build -c release --product dtrain-benchmark

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for round in $(seq 1 "$rounds"); do
    for run in $runs; do
        model=${run%%:*} threads=${run##*:}
        echo "round $round/$rounds: $model, $threads thread(s)" >&2
        .build/release/dtrain-benchmark --json --model "$model" --threads "$threads" \
            | sed 's/^{/{"engine": "dtrain", /' | tee -a "$results" >&2
        OMP_NUM_THREADS=$threads "$venv/bin/python" launch/bench_pytorch.py --model "$model" --threads "$threads" \
            | sed 's/^{/{"engine": "pytorch", /' | tee -a "$results" >&2
        LD_PRELOAD=$tcmalloc OMP_NUM_THREADS=$threads "$venv/bin/python" launch/bench_pytorch.py --model "$model" \
            --threads "$threads" --channels-last | sed 's/^{/{"engine": "pytorch-best", /' | tee -a "$results" >&2
    done
done

"$venv/bin/python" - "$results" <<'PYTHON'
import json, statistics, sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
def pick(engine, model, threads, key):
    return [r[key] for r in rows if r["engine"] == engine and r["model"] == model and r["threads"] == threads]
def cell(values, digits):
    return f"{statistics.median(values):,.{digits}f} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"
runs = []
for r in rows:
    if (r["model"], r["threads"]) not in runs:
        runs.append((r["model"], r["threads"]))
print("| model | batch | threads | dtrain img/s | PyTorch img/s | PyTorch best img/s | dtrain / best, per round "
      "| dtrain % of FP32 peak | peak RSS MB dtrain / PyTorch best |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for model, threads in runs:
    ours, plain, best = (pick(e, model, threads, "images_per_second") for e in ("dtrain", "pytorch", "pytorch-best"))
    batch = pick("dtrain", model, threads, "batch")[0]
    digits = 1 if statistics.median(ours) < 100 else 0
    ratios = [o / b for o, b in zip(ours, best)]
    fraction = [100 * g / p for g, p in zip(pick("dtrain", model, threads, "gflops"),
                                            pick("dtrain", model, threads, "peak_gflops"))]
    print(f"| {model} | {batch} | {threads} | {cell(ours, digits)} | {cell(plain, digits)} | {cell(best, digits)} "
          f"| {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}x) | {cell(fraction, 1)} "
          f"| {statistics.median(pick('dtrain', model, threads, 'peak_rss_mb')):,.0f} / "
          f"{statistics.median(pick('pytorch-best', model, threads, 'peak_rss_mb')):,.0f} |")
PYTHON
