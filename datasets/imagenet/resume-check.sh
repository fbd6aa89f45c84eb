#!/usr/bin/env bash
# Kill and resume of datasets/imagenet/imagenet.toml (ResNet-50, RandomResizedCrop from JPEG files) on R ranks of
# one machine: packs ImageNet-sized JPEGs (sample_jpegs.py) with `dtrain pack imagefolder`, trains S steps with a
# checkpoint every 2 uninterrupted, then trains the same again, SIGKILLs the whole mpirun process group once step 3
# is logged (between the checkpoints after steps 2 and 4), reruns the same command, and compares: the final
# checkpoints' tensors (parameters, buffers, optimizer state; `dtrain inspect`'s digest) and every step's loss in
# metrics.jsonl (all 17 digits) must be the same in both runs. Prints PASS or FAIL; exit status 0 on PASS.
#
#   datasets/imagenet/resume-check.sh [--ranks 8] [--steps 6] [--image-size 224] [--batch RANKS] [--work DIR]
#
# --batch is the global batch (default one image per rank), --image-size the training crop (evaluation resizes to
# 8/7 of it). On a 2-core machine 8 ranks of ResNet-50 at 224 take about 5 s a step. Needs `swift build -c release`
# first, and numpy and Pillow for the JPEG files ($PYTHON, default python3).
set -euo pipefail

ranks=8 steps=6 image_size=224 batch="" work=""
while (($#)); do
    case $1 in
        --ranks) ranks=$2; shift 2 ;;
        --steps) steps=$2; shift 2 ;;
        --image-size) image_size=$2; shift 2 ;;
        --batch) batch=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        *) echo "usage: $0 [--ranks R] [--steps S] [--image-size N] [--batch B] [--work DIR]" >&2; exit 2 ;;
    esac
done
batch=${batch:-$ranks}
((steps >= 4 && steps % 2 == 0)) || { echo "resume-check: --steps must be even and at least 4" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
dtrain=${DTRAIN:-$root/.build/release/dtrain}
[[ -x $dtrain ]] || { echo "resume-check: $dtrain not built; run: swift build -c release" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "resume-check: mpirun not found; run launch/setup.sh" >&2; exit 2; }
if [[ -z $work ]]; then
    work=$(mktemp -d /tmp/dtrain-resume-check.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    trap 'exit 130' INT TERM
fi
mkdir -p "$work"
mpirun_options=(--oversubscribe --bind-to none -n "$ranks" -x OPENBLAS_NUM_THREADS=1)
[[ $(id -u) -ne 0 ]] || mpirun_options=(--allow-run-as-root "${mpirun_options[@]}")

# Enough images for every step to draw new ones; validation pictures from another seed.
if [[ ! -e $work/train.h5 ]]; then
    "${PYTHON:-python3}" "$root/datasets/imagenet/sample_jpegs.py" "$work/train" --images $((batch * steps * 2))
    "${PYTHON:-python3}" "$root/datasets/imagenet/sample_jpegs.py" "$work/val" --images 16 --seed 2013
    "$dtrain" pack imagefolder --root "$work/train" --output "$work/train.h5" 2>/dev/null
    "$dtrain" pack imagefolder --root "$work/val" --output "$work/val.h5" 2>/dev/null
fi

# train OUT_DIR: the training command, one argument a line.
train() {
    printf '%s\n' mpirun "${mpirun_options[@]}" "$dtrain" "$root/datasets/imagenet/imagenet.toml" \
        --set "data.train=\"$work/train.h5\"" --set "data.val=\"$work/val.h5\"" \
        --set "data.global_batch=$batch" --set "data.image_size=$image_size" --set "data.resize=$((image_size * 8 / 7))" \
        --set "run.max_steps=$steps" --set "run.out_dir=\"$1\"" --set "checkpoint.every_steps=2" \
        --set "log.every_steps=1"
}

# digest CHECKPOINT: its step and tensor digest, or nothing when it does not verify.
digest() {
    "$dtrain" inspect "$1" 2>/dev/null | awk '/^step:/ { step = $2 } /^tensor digest:/ { print "step " step " tensors " $3 }'
}

# losses OUT_DIR: "global_step loss" of every training record, the last one of each step (a resumed run logs
# again the steps after its checkpoint).
losses() {
    sed -n 's/.*"type" *: *"train".*/&/p' "$1/metrics.jsonl" |
        sed -n 's/.*"global_step" *: *\([0-9]*\).*"loss" *: *\([-0-9.e+]*\).*/\1 \2/p;
                s/.*"loss" *: *\([-0-9.e+]*\).*"global_step" *: *\([0-9]*\).*/\2 \1/p' |
        awk '{ loss[$1] = $2 } END { for (s in loss) print s, loss[s] }' | sort -n
}

# session_processes SID: the processes of the session that setsid started (mpirun and the ranks below it).
session_processes() {
    ps -e -o pid=,sid= | awk -v sid="$1" '$2 == sid && $1 != sid { print $1 } $1 == sid { print $1 }'
}

mapfile -t reference_command < <(train "$work/reference")
echo "resume-check: $ranks ranks, ResNet-50 at $image_size, global batch $batch, $steps steps; work in $work"
echo "resume-check: ${reference_command[*]}"
started=$SECONDS
"${reference_command[@]}" >"$work/reference.log" 2>&1 \
    || { echo "resume-check: FAIL, the uninterrupted run failed:"; tail -20 "$work/reference.log"; exit 1; }
echo "resume-check: uninterrupted run: $((SECONDS - started)) s, $(grep -o "step [0-9.]* ms: .*" "$work/reference.log" | tail -1)"

mapfile -t command < <(train "$work/interrupted")
started=$SECONDS
setsid "${command[@]}" >"$work/interrupted.1.log" 2>&1 &
job=$!
# No "Killed" notice from bash for the job killed on purpose; its end is watched through its session below.
disown "$job"
until grep -q "^epoch 1 step 3/" "$work/interrupted.1.log" 2>/dev/null; do
    kill -0 "$job" 2>/dev/null || { echo "resume-check: FAIL, the run to kill ended before step 3:"; tail -20 "$work/interrupted.1.log"; exit 1; }
    sleep 0.05
done
kill -KILL -- "-$job"
for _ in $(seq 1 300); do
    [[ -z $(session_processes "$job") ]] && break
    sleep 0.1
done
left=$(session_processes "$job")
if [[ -n $left ]]; then
    echo "resume-check: FAIL, processes of the killed job still alive 30 s later: $left"
    kill -KILL $left 2>/dev/null || true
    exit 1
fi
echo "resume-check: killed the mpirun process group $job after step 3 was logged ($((SECONDS - started)) s in);" \
     "checkpoints left: $(cd "$work/interrupted/checkpoints" && ls ckpt-*.h5 2>/dev/null | tr '\n' ' ')"
"${command[@]}" >"$work/interrupted.2.log" 2>&1 \
    || { echo "resume-check: FAIL, the resumed run failed:"; tail -20 "$work/interrupted.2.log"; exit 1; }
resumed=$(sed -n 's/^resuming from .*: step \([0-9]*\),.*/\1/p' "$work/interrupted.2.log" | head -1)
echo "resume-check: $(grep -m1 '^resuming from' "$work/interrupted.2.log" || echo 'the rerun did not resume')"

expected=$(digest "$work/reference/checkpoints/ckpt-$steps.h5")
found=$(digest "$work/interrupted/checkpoints/ckpt-$steps.h5")
echo "resume-check: final checkpoint, uninterrupted: ${expected:-missing or invalid}"
echo "resume-check: final checkpoint, killed and resumed: ${found:-missing or invalid}"
paste -d ' ' <(losses "$work/reference") <(losses "$work/interrupted") |
    awk '{ printf "resume-check: step %s loss %s (uninterrupted) %s (resumed run) %s\n", $1, $2, $4, ($1 == $3 && $2 == $4) ? "same" : "DIFFERENT" }'
same_losses=$([[ $(losses "$work/reference") == "$(losses "$work/interrupted")" && $(losses "$work/reference" | wc -l) -eq $steps ]] && echo yes || echo no)
if [[ -z $resumed ]] || ((resumed >= steps)); then
    echo "resume-check: FAIL, the rerun did not continue a run cut short (resumed at step ${resumed:-none} of $steps)"
    exit 1
fi
if [[ -n $expected && $expected == "$found" && $same_losses == yes ]]; then
    echo "resume-check: PASS, killed and resumed run bitwise equal to the uninterrupted one"
else
    echo "resume-check: FAIL"
    exit 1
fi
