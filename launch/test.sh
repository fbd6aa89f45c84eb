#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds in release mode, runs every test (the multi-rank ones
# under mpirun).
set -euo pipefail
cd "$(dirname "$0")/.."

launch/setup.sh
swift build -c release --build-tests

# Numeric tests (gradient checks, overfitting small sets) run in release mode: debug builds are ~50x slower.
# The suite takes about a minute. A test process that hangs (seen about once in five runs, cause not yet found)
# is stopped after 10 minutes and the suite runs again (at most three attempts); a failing test is never retried.
for attempt in 1 2 3; do
    status=0
    timeout --kill-after=30 600 swift test -c release --skip-build || status=$?
    if [[ $status -ne 124 && $status -ne 137 ]]; then
        exit "$status"
    fi
    echo "test.sh: the test run hung (attempt $attempt, stopped after 600 s)" >&2
    pkill -9 -f dtrainPackageTests.xctest 2>/dev/null || true
done
exit 1
