#!/usr/bin/env bash
# The whole test suite: provision the peers, then run every unit and integration test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/testbed.sh
export TRACECTL_TESTBED="${TRACECTL_TESTBED:-$PWD/target/testbed}"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --no-fail-fast "$@"
else
    cargo test --no-fail-fast "$@"
fi
