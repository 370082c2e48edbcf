#!/usr/bin/env bash
# Runs every fuzz target for a bounded time on the stable toolchain
# (cargo fuzz with --sanitizer none) and prints executions per second.
# Usage: ci/fuzz.sh [SECONDS_PER_TARGET] [--report FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/lib.sh
secs="${1:-60}"
report=""
if [ "${2:-}" = "--report" ]; then report="${3:?--report needs a file}"; fi
stage_begin fuzz

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  if ! cargo install cargo-fuzz --locked >/tmp/cargo-fuzz-install.log 2>&1; then
    skip "cargo-fuzz could not be installed (see /tmp/cargo-fuzz-install.log)"
  fi
fi

targets="model differential resume_stream spec_loader vfio_user_decoder vfio_user_server"
rows=""
status=0
cd fuzz
cargo fuzz build -s none >/dev/null 2>&1 || fail "the targets do not build"
for t in $targets; do
  log="/tmp/vfio-mig-fuzz-$t.log"
  mkdir -p "corpus/$t"
  # New inputs go to a scratch corpus; the committed corpus stays small.
  scratch="$(mktemp -d)"
  if cargo fuzz run -s none "$t" "$scratch" "corpus/$t" -- -max_total_time="$secs" -seed=1 -print_final_stats=1 >"$log" 2>&1; then
    result="no crash"
  else
    result="CRASH (see fuzz/artifacts/$t)"
    status=1
    grep -E "panicked at|^thread" "$log" | head -3 || true
  fi
  rm -rf "$scratch"
  runs=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$log" | grep -oE "[0-9]+$" || echo 0)
  rate=$(grep -oE "stat::average_exec_per_sec: *[0-9]+" "$log" | grep -oE "[0-9]+$" || echo 0)
  echo "$t: $runs executions in ${secs}s, $rate per second, $result"
  rows="$rows| $t | $secs | $runs | $rate | $result |\n"
done
if [ -n "$report" ]; then
  {
    echo "# Fuzzing"
    echo
    echo "Each target run with \`ci/fuzz.sh $secs\` (cargo fuzz, \`--sanitizer none\`, stable toolchain) on a 2-core machine."
    echo
    echo "| target | seconds | executions | per second | result |"
    echo "|---|---|---|---|---|"
    printf "%b" "$rows"
  } > "../$report"
fi
[ "$status" = 0 ] || fail "a target crashed"
echo "$(echo $targets | wc -w) targets, ${secs} s each"
ran
