#!/usr/bin/env bash
# Runs every benchmark and writes reports/perf.md: the criterion benches of
# vfio-mig-bench, the wall time of the README's test command (already
# compiled), then perf-report, which puts each figure beside its limit.
# Usage: ci/bench.sh   (takes about five minutes on two cores)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --locked -p vfio-mig-bench
cargo test --workspace --locked -q >/dev/null 2>&1
start=$(date +%s.%N)
cargo test --workspace --locked -q >/dev/null 2>&1
end=$(date +%s.%N)
cargo run --locked --release -q -p vfio-mig-bench --bin perf-report -- \
  --test-seconds "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
