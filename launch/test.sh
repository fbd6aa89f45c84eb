#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds in release mode, runs every test once (the multi-rank ones
# under mpirun). Numeric tests (gradient checks, overfitting small sets) need release mode: debug is ~50x slower.
#
# A test process that prints nothing for DTRAIN_TEST_QUIET_SECONDS (default 300; the slowest test takes ~30 s) or
# runs longer than DTRAIN_TEST_LIMIT_SECONDS (default 2700) counts as hung: every thread of every process it started
# gets a backtrace (gdb), everything it started is killed by process id and group, and the run fails. Nothing is
# retried. Tests run with one BLAS thread unless OPENBLAS_NUM_THREADS says otherwise: Swift Testing runs tests in
# parallel, and two-thread GEMMs in parallel tests only oversubscribe the cores.
set -euo pipefail
cd "$(dirname "$0")/.."

launch/setup.sh gdb librsvg2-bin
swift build -c release --build-tests

export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
quiet_limit="${DTRAIN_TEST_QUIET_SECONDS:-300}"
total_limit="${DTRAIN_TEST_LIMIT_SECONDS:-2700}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# A session of its own, so that the test process and everything in its group can be told apart from this script.
setsid swift test -c release --skip-build >"$log" 2>&1 &
tests=$!
tail -n +1 -f --pid="$tests" "$log" &
printer=$!

# Every process below $1, from the parent links (children first collected, so that none escapes as an orphan).
descendants() {
    local pid
    for pid in $(ps -e -o pid=,ppid= | awk -v parent="$1" '$2 == parent { print $1 }'); do
        echo "$pid"
        descendants "$pid"
    done
}

start=$SECONDS last_size=0 last_output=$SECONDS hung=""
while kill -0 "$tests" 2>/dev/null; do
    sleep 2
    size=$(stat -c %s "$log")
    if ((size != last_size)); then last_size=$size last_output=$SECONDS; fi
    if ((SECONDS - last_output > quiet_limit)); then hung="printed nothing for $quiet_limit s"; break; fi
    if ((SECONDS - start > total_limit)); then hung="ran longer than $total_limit s"; break; fi
done

if [[ -n $hung ]]; then
    processes=$(descendants "$tests")
    echo "test.sh: the test process hangs ($hung); backtraces of every thread of it and of what it started:" >&2
    for pid in $tests $processes; do
        [[ -r /proc/$pid/cmdline ]] || continue
        echo "--- pid $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline")" >&2
        timeout 60 gdb -p "$pid" -batch -nx -ex "set pagination off" -ex "thread apply all bt" 2>&1 \
            | grep -v '^\[New LWP\|^warning:\|^During symbol reading' >&2 || true
    done
    kill -KILL -- "-$tests" 2>/dev/null || true
    for pid in $processes; do kill -KILL "$pid" 2>/dev/null || true; done
    wait "$tests" 2>/dev/null || true
    wait "$printer" 2>/dev/null || true
    echo "test.sh: FAILED: the test process hung ($hung) and was killed" >&2
    exit 1
fi

status=0
wait "$tests" || status=$?
wait "$printer" 2>/dev/null || true
exit "$status"
