#!/usr/bin/env bash
# Runs every fuzz target for a bounded time on the stable toolchain
# (cargo fuzz with --sanitizer none) and prints executions per second.
# Usage: ci/fuzz.sh [SECONDS_PER_TARGET] [--report FILE]
# With --report, the table at the top of FILE is rewritten; whatever FILE
# says after the table (what the targets check, what was found) is kept.
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

targets="model differential resume_stream spec_loader vfio_user_decoder vfio_user_server trace_checker deviations_loader baseline_loader"
# Targets built without comparison tracing, in their own target directory.
# The model target decodes every value through `arbitrary`, so the values it
# compares never appear as such in the input and libFuzzer's comparison
# tables cannot steer it; the tracing took half of its time (reports/fuzz.md).
# Comparisons of strings are still traced (libFuzzer intercepts memcmp).
# That separate build is for the rates the report shows: a plain run (CI's
# smoke run) builds every target once, with tracing.
no_cmp=""
[ -z "$report" ] || no_cmp="model"
no_cmp_dir="target/no-trace-compares"
rows=""
status=0
# The rates depend on what else runs on the machine: the load is reported.
load_before="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown)"
cd fuzz
cargo fuzz build -s none >/dev/null 2>&1 || fail "the targets do not build"
for t in $no_cmp; do
  cargo fuzz build -s none --no-trace-compares --target-dir "$no_cmp_dir" "$t" >/dev/null 2>&1 \
    || fail "$t does not build without comparison tracing"
done
# Each target's libFuzzer output, kept for a look after a crash.
logs="../target/fuzz-logs"
mkdir -p "$logs"
for t in $targets; do
  log="$logs/$t.log"
  mkdir -p "corpus/$t"
  build=()
  case " $no_cmp " in *" $t "*) build=(--no-trace-compares --target-dir "$no_cmp_dir") ;; esac
  # New inputs go to a scratch corpus (in memory when /dev/shm is there:
  # libFuzzer writes every new input as a file); the committed corpus stays
  # small. An input that runs 10 s is a hang and fails the run.
  scratch="$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)"
  if cargo fuzz run -s none ${build[@]+"${build[@]}"} "$t" "$scratch" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -seed=1 -print_final_stats=1 >"$log" 2>&1; then
    result="no crash"
  else
    result="CRASH (see fuzz/artifacts/$t and target/fuzz-logs/$t.log)"
    status=1
    grep -E "panicked at|^thread|ERROR: libFuzzer" "$log" | head -3 || true
  fi
  rm -rf "$scratch"
  runs=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$log" | grep -oE "[0-9]+$" || echo 0)
  rate=$(grep -oE "stat::average_exec_per_sec: *[0-9]+" "$log" | grep -oE "[0-9]+$" || echo 0)
  echo "$t: $runs executions in ${secs}s, $rate per second, $result"
  rows="$rows| $t | $secs | $runs | $rate | $result |\n"
done
load_after="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown)"
if [ -n "$report" ]; then
  out="../$report"
  rest=""
  # Everything after the first table of the old report is kept.
  if [ -f "$out" ]; then rest="$(awk 'in_table && !/^\|/ { after = 1 } /^\|/ { in_table = 1 } after' "$out")"; fi
  {
    echo "# Fuzzing"
    echo
    echo "Each target run with \`ci/fuzz.sh $secs\` (cargo fuzz, \`--sanitizer none\`, stable toolchain) on a"
    echo "$(nproc)-core machine (load average $load_before before, $load_after after); \`model\` built"
    echo "without comparison tracing."
    echo
    echo "| target | seconds | executions | per second | result |"
    echo "|---|---|---|---|---|"
    printf "%b" "$rows"
    if [ -n "$rest" ]; then printf "%s\n" "$rest"; fi
  } >"$out.new"
  mv "$out.new" "$out"
fi
[ "$status" = 0 ] || fail "a target crashed"
echo "$(echo "$targets" | wc -w) targets, ${secs} s each"
ran
