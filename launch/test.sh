#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds in release mode, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

launch/setup.sh
swift build -c release --build-tests
# Numeric tests (gradient checks, overfitting small sets) run in release mode: debug builds are ~50x slower.
swift test -c release --skip-build
