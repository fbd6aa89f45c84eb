#!/usr/bin/env bash
# Chaos test of checkpoints and resume. Trains LeNet-5 on 2 MPI ranks with a checkpoint every 2 steps and, K times,
# SIGKILLs rank 0, rank 1, mpirun or every process of the job at a random moment (about half of the kills aimed at
# a checkpoint write: rank 0's ckpt-<step>.h5.tmp exists). After each kill it checks that every process of the job
# has ended within 10 s, verifies every checkpoint a resume could pick with `dtrain inspect`, and reruns the same
# command (`--resume auto`). When a run reaches its end, its final checkpoint's tensors (parameters and optimizer
# state) must equal, bit for bit, those of an uninterrupted run; the next campaign then starts in a fresh out_dir.
#
#   launch/chaos.sh [--kills K] [--seed S] [--steps N] [--work DIR]
#
# Prints every kill and every campaign's comparison as it happens, then the kills, the kills during a write, hangs,
# resumes, invalid checkpoints and campaigns; exits 1 on any hang, invalid checkpoint or mismatch (a run that was
# not killed but failed counts as a mismatch). Needs `swift build -c release` first.
set -euo pipefail

kills=10 seed=$RANDOM steps=64 work=""
while (($#)); do
    case $1 in
        --kills) kills=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --steps) steps=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        *) echo "usage: $0 [--kills K] [--seed S] [--steps N] [--work DIR]" >&2; exit 2 ;;
    esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
dtrain=${DTRAIN:-$root/.build/release/dtrain}
[[ -x $dtrain ]] || { echo "chaos: $dtrain not built; run: swift build -c release" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "chaos: mpirun not found; run launch/setup.sh" >&2; exit 2; }
if [[ -z $work ]]; then
    work=$(mktemp -d /tmp/dtrain-chaos.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    # A signal ends the script through exit, so that the folder goes too.
    trap 'exit 130' INT TERM
fi
mkdir -p "$work"
# Without bash's "Killed" notices for the jobs this script kills on purpose.
exec 2> >(grep --line-buffered -v ': line [0-9]*: *[0-9]* Killed  *setsid mpirun' >&2)
RANDOM=$seed
export OPENBLAS_NUM_THREADS=1
mpirun_options=(--oversubscribe --bind-to none -n 2)
[[ $(id -u) -ne 0 ]] || mpirun_options=(--allow-run-as-root "${mpirun_options[@]}")
readonly grace=10

"$dtrain" pack synthetic --output "$work/train.h5" --count 256 --shape 1,28,28 --classes 10 --seed 1 >/dev/null
"$dtrain" pack synthetic --output "$work/val.h5" --count 64 --shape 1,28,28 --classes 10 --seed 2 >/dev/null

# config OUT_DIR: writes the run's config (16 steps per epoch, enough epochs for `steps`) and prints its path.
config() {
    local file=$1.toml
    cat >"$file" <<EOF
[run]
seed = 3
epochs = $(((steps + 15) / 16))
max_steps = $steps
out_dir = "$1"
[data]
train = "$work/train.h5"
val = "$work/val.h5"
global_batch = 16
[model]
name = "lenet5"
[optimizer]
name = "momentum"
lr = 0.02
[checkpoint]
every_steps = 2
keep = 2
[log]
every_steps = 4
EOF
    echo "$file"
}

# digest CHECKPOINT: the checkpoint's step and tensor digest, or nothing when it does not verify.
digest() {
    "$dtrain" inspect "$1" 2>/dev/null | awk '/^step:/ { step = $2 } /^tensor digest:/ { print "step " step " tensors " $3 }'
}

# now: microseconds since the epoch.
now() {
    echo "${EPOCHREALTIME/./}"
}

# running PID: whether PID is a live process (a zombie has ended: it holds no resources, only its slot).
# Shell builtins only, so that the polling loops below cost no process starts.
running() {
    local stat
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# alive PIDS...: those of PIDS that still run.
alive() {
    local pid
    for pid in "$@"; do running "$pid" && echo "$pid"; done
    return 0
}

# job_processes ROOT: ROOT and every process below it (parent links in /proc), plus every process of ROOT's
# session (setsid made ROOT its leader), which catches ranks already re-parented after mpirun died.
job_processes() {
    local stat_file stat fields
    for stat_file in /proc/[0-9]*/stat; do
        { read -r stat <"$stat_file"; } 2>/dev/null || continue
        fields=(${stat##*) })
        echo "${stat%% *} ${fields[1]} ${fields[3]}"
    done | awk -v root="$1" '
        { parent[$1] = $2; session[$1] = $3 }
        END { for (pid in parent) {
                  p = pid
                  while (p != "" && p != root && p + 0 > 1) p = parent[p]
                  if (p == root || session[pid] == root) print pid } }'
}

# rank_pid ROOT RANK: the pid of the dtrain process of that rank in the job under ROOT, if it has started.
rank_pid() {
    local pid
    for pid in $(job_processes "$1"); do
        [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dtrain ]] || continue
        if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then
            echo "$pid"
            return
        fi
    done
}

# fresh_temporary DIR MARKER: whether a ckpt-*.h5.tmp in DIR was written after MARKER (a write in progress, or
# one a kill interrupted), as opposed to one a killed earlier run left.
fresh_temporary() {
    local file
    for file in "$1"/ckpt-*.h5.tmp; do
        [[ -e $file && $file -nt $2 ]] && return 0
    done
    return 1
}

# finish_campaign STATUS LOG RUNS: compares the campaign's final checkpoint with the uninterrupted run's.
finish_campaign() {
    local final
    final=$(digest "$checkpoints/ckpt-$steps.h5")
    if (($1 == 0)) && [[ $final == "$reference" ]]; then
        equal=$((equal + 1))
        echo "chaos: campaign $campaign: kills $campaign_kills, runs $3, final tensors bitwise equal to the uninterrupted run"
    else
        mismatches+=("campaign $campaign: kills $campaign_kills, runs $3, exit $1, final ${final:-checkpoint missing or invalid}")
        echo "chaos: MISMATCH in ${mismatches[-1]}, expected $reference"
        tail -5 "$2"
    fi
}

new_campaign() {
    campaign=$((campaign + 1)) campaign_kills=0 campaign_runs=0
    out=$work/campaign-$campaign
    file=$(config "$out")
    checkpoints=$out/checkpoints
}

echo "chaos: seed $seed, $kills kills, $steps steps per run, work in $work"
started=$(now)
mpirun "${mpirun_options[@]}" "$dtrain" "$(config "$work/reference")" >"$work/reference.log" 2>&1 \
    || { echo "chaos: the uninterrupted run failed:" >&2; cat "$work/reference.log" >&2; exit 1; }
run_length=$(($(now) - started))
reference=$(digest "$work/reference/checkpoints/ckpt-$steps.h5")
[[ -n $reference ]] || { echo "chaos: the uninterrupted run left no valid ckpt-$steps.h5" >&2; exit 1; }
echo "chaos: uninterrupted run: $reference, $((run_length / 1000)) ms"

killed=0 during_write=0 hangs=0 resumes=0 invalid_used=0 invalid_found=0 checked=0 campaign=0 equal=0
declare -A by_target=([rank0]=0 [rank1]=0 [mpirun]=0 [all]=0)
targets=(rank0 rank1 mpirun all)
mismatches=()
new_campaign

while ((killed < kills)); do
    # Every checkpoint the resume may pick must verify: dtrain would skip a damaged one and redo its steps.
    candidates=()
    for checkpoint in "$checkpoints"/ckpt-*.h5; do
        [[ -e $checkpoint ]] || continue
        checked=$((checked + 1))
        if [[ -n $(digest "$checkpoint") ]]; then candidates+=("$checkpoint"); else
            invalid_found=$((invalid_found + 1))
            echo "chaos: campaign $campaign: $checkpoint does not verify: $("$dtrain" inspect "$checkpoint" 2>&1 >/dev/null)"
        fi
    done
    marker=$work/marker
    touch "$marker"
    log=$out.run$campaign_runs.log
    campaign_runs=$((campaign_runs + 1))
    setsid mpirun "${mpirun_options[@]}" "$dtrain" "$file" --resume auto >"$log" 2>&1 &
    job=$! run_started=$(now)
    target=${targets[RANDOM % 4]}
    aim_at_write=$((RANDOM % 2))
    # A random moment within a run's length, start-up included; an aimed kill then waits for the next write.
    delay=$((run_length * (RANDOM % 1000) / 1000))
    deadline=$(($(now) + delay))
    while running "$job" && (($(now) < deadline)); do sleep 0.01; done
    if ((aim_at_write)); then
        # Both ranks up first, so that nothing but builtins runs between seeing the write and the kill.
        while running "$job" && [[ -z $(rank_pid "$job" 0) || -z $(rank_pid "$job" 1) ]]; do sleep 0.01; done
    fi
    # The processes to watch: the whole job as it stands just before the kill.
    processes=($(job_processes "$job"))
    case $target in
        rank0) victims=$(rank_pid "$job" 0) ;;
        rank1) victims=$(rank_pid "$job" 1) ;;
        mpirun) victims=$job ;;
        all) victims="${processes[*]}" ;;
    esac
    if ((aim_at_write)); then
        while running "$job" && ! fresh_temporary "$checkpoints" "$marker"; do :; done
    fi
    if ! running "$job"; then
        # The run ended before the kill: it must have succeeded, and then it closes the campaign.
        status=0
        wait "$job" || status=$?
        if grep -q "^resuming from" "$log"; then resumes=$((resumes + 1)); else
            # A whole run: the kill moments follow how long runs take now (the machine's load changes).
            run_length=$(($(now) - run_started))
        fi
        finish_campaign "$status" "$log" "$campaign_runs"
        new_campaign
        continue
    fi
    if [[ -z $victims ]]; then
        # The chosen rank has not started yet: the kill falls on mpirun while it starts the ranks.
        target=mpirun victims=$job
    fi
    kill -KILL $victims 2>/dev/null || true
    killed=$((killed + 1)) campaign_kills=$((campaign_kills + 1))
    by_target[$target]=$((${by_target[$target]} + 1))
    waited=$(now)
    while [[ -n $(alive "${processes[@]}" $(job_processes "$job")) ]] && (($(now) - waited < grace * 1000000)); do
        sleep 0.05
    done
    left=$(alive "${processes[@]}" $(job_processes "$job"))
    if [[ -n $left ]]; then
        hangs=$((hangs + 1))
        echo "chaos: kill $killed ($target): still alive $grace s later: $(ps -o pid=,comm= -p "$(echo $left | tr ' ' ,)" | tr -s ' \n' ' ')"
        kill -KILL $left 2>/dev/null || true
    fi
    wait "$job" || true
    write=""
    if fresh_temporary "$checkpoints" "$marker"; then during_write=$((during_write + 1)) write=", during a write"; fi
    used=$(sed -n 's/^resuming from \(.*\): step.*/\1/p' "$log" | head -1)
    if [[ -n $used ]]; then
        resumes=$((resumes + 1))
        if [[ " ${candidates[*]} " != *" $used "* ]]; then
            invalid_used=$((invalid_used + 1))
            echo "chaos: kill $killed: the run resumed from $used, which did not verify beforehand"
        fi
    fi
    echo "chaos: kill $killed: $target after $((delay / 1000)) ms$write (campaign $campaign, run $campaign_runs)"
done
# Finish the campaign the last kill interrupted, so that its result counts too.
status=0
mpirun "${mpirun_options[@]}" "$dtrain" "$file" --resume auto >"$out.final.log" 2>&1 || status=$?
grep -q "^resuming from" "$out.final.log" && resumes=$((resumes + 1))
finish_campaign "$status" "$out.final.log" "$((campaign_runs + 1))"

echo "chaos: summary"
echo "  kills: $killed (rank 0: ${by_target[rank0]}, rank 1: ${by_target[rank1]}, mpirun: ${by_target[mpirun]}, all: ${by_target[all]})"
echo "  kills during a checkpoint write: $during_write"
echo "  hangs (a process alive $grace s after a kill): $hangs"
echo "  resumes: $resumes"
echo "  invalid checkpoints used: $invalid_used (checkpoint files verified: $checked, invalid: $invalid_found)"
echo "  campaigns: $campaign, final tensors bitwise equal to the uninterrupted run: $equal"
for mismatch in "${mismatches[@]}"; do echo "  MISMATCH: $mismatch"; done
((hangs == 0 && invalid_used == 0 && invalid_found == 0 && ${#mismatches[@]} == 0))
