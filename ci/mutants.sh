#!/usr/bin/env bash
# Mutation testing of the model and the mock with cargo-mutants, and the
# report of it, reports/mutation.md. Not part of .ci/run: on two cores the
# model's mutants alone take hours.
#
#   ci/mutants.sh [CRATE] [K/N]...
#   ci/mutants.sh [CRATE] recheck
#
# CRATE is `model` (the default) or `mock`; each K/N is one shard of N
# (round-robin, so every shard is a sample of the whole crate); without a
# shard, every shard of 8 runs in turn. Shards already done are skipped, so
# the script resumes where it stopped; their results stay in
# target/mutants/CRATE/shard-K-of-N/. MUTANTS_AGAIN=1 runs the shards named
# again from scratch (after a new test).
# MUTANTS_REPORT_ONLY=1 only rewrites reports/mutation.md.
#
# `recheck` runs again exactly the mutants the shards done missed (after
# tests were written for them), into target/mutants/CRATE/recheck/: one
# that is caught there counts as caught. Every shard and the recheck record
# a hash of the crate's source; the report refuses to add up runs made on
# different sources.
#
# The model's mutants are judged by the model's own tests (-p
# vfio-mig-model); the mock's by its own tests and by the engine's, which
# run every suite against the correct mock and each of its mutants. Builds
# use the `mutants` profile of Cargo.toml and the settings of
# .cargo/mutants.toml.
#
# Every mutant a test does not catch must be listed in
# ci/mutants-explained.tsv: `killed` with the test written to catch it (the
# report then checks it is caught), or `explained` with why no test can
# tell it apart. The script fails while one is missing.
set -uo pipefail
cd "$(dirname "$0")/.."

crate=${1:-model}
shift || true
case "$crate" in
  # The timeout of a mutant's tests: a few times what the unmutated tests take.
  model) package=vfio-mig-model; tests=(--test-package vfio-mig-model); secs=60 ;;
  # The mock's server and its tests are behind its vfio-user-server feature.
  mock) package=vfio-mig-mock; secs=300
    tests=(--test-package vfio-mig-mock --test-package vfio-mig-engine --features vfio-mig-mock/vfio-user-server) ;;
  *) echo "usage: ci/mutants.sh [model|mock] [K/N]..." >&2; exit 2 ;;
esac
shards=("$@")
recheck=false
if [ "${shards[*]:-}" = recheck ]; then recheck=true; shards=(); fi
# The crate's source as the mutants are made from it.
src_hash() { git ls-files -z -- "$crate/src" | xargs -0 cat | sha1sum | cut -d' ' -f1; }
# esc: a mutant's name as a regex matching only it.
esc() { sed -E 's/[][\\.*^$+?(){}|]/\\&/g; s/^/^/; s/$/$/'; }
if ! $recheck && [ ${#shards[@]} = 0 ]; then
  for k in 0 1 2 3 4 5 6 7; do shards+=("$k/8"); done
fi

if [ -z "${MUTANTS_REPORT_ONLY:-}" ]; then
  if ! command -v cargo-mutants >/dev/null 2>&1; then
    start=$(date +%s)
    cargo install cargo-mutants --locked || exit 1
    echo "cargo-mutants installed in $(( $(date +%s) - start )) s"
  fi
  mkdir -p "target/mutants/$crate"
  cargo mutants --list -p "$package" | wc -l > "target/mutants/$crate/total"
  for shard in "${shards[@]}"; do
    k=${shard%/*}; n=${shard#*/}
    out="target/mutants/$crate/shard-$k-of-$n"
    if [ -f "$out/done" ]; then
      [ -n "${MUTANTS_AGAIN:-}" ] || { echo "shard $shard of $crate: done before"; continue; }
      # Again from scratch: cargo-mutants' --iterate drops the mutants
      # caught before and then shards what is left, which is another set.
      rm -rf "$out"
    fi
    mkdir -p "$out"
    start=$(date +%s)
    # The source as cargo-mutants copies it at the start of the run.
    hash=$(src_hash)
    # Exit codes: 0 every mutant caught, 2 some missed, 3 some timed out.
    cargo mutants -p "$package" "${tests[@]}" --jobs 1 --timeout "$secs" --build-timeout 900 \
      --shard "$shard" --sharding round-robin -o "$out" 2>&1 | tee "$out/log"
    rc=${PIPESTATUS[0]}
    case $rc in
      0|2|3) echo "$hash" > "$out/source"; echo "$(( $(date +%s) - start ))" > "$out/done" ;;
      *) echo "shard $shard of $crate: cargo-mutants failed (exit code $rc)" >&2; exit 1 ;;
    esac
  done
  if $recheck; then
    out="target/mutants/$crate/recheck"
    res=()
    while IFS= read -r m; do res+=(--re "$m"); done < <(
      for d in target/mutants/"$crate"/shard-*/; do
        [ -f "$d/done" ] && cat "$d/mutants.out/missed.txt" 2>/dev/null
      done | sort -u | esc)
    [ ${#res[@]} -gt 0 ] || { echo "no missed mutant of $crate to run again"; exit 0; }
    rm -rf "$out" && mkdir -p "$out"
    start=$(date +%s)
    hash=$(src_hash)
    cargo mutants -p "$package" "${tests[@]}" --jobs 1 --timeout "$secs" --build-timeout 900 \
      "${res[@]}" -o "$out" 2>&1 | tee "$out/log"
    rc=${PIPESTATUS[0]}
    case $rc in
      0|2|3) echo "$hash" > "$out/source"; echo "$(( $(date +%s) - start ))" > "$out/done" ;;
      *) echo "the recheck of $crate: cargo-mutants failed (exit code $rc)" >&2; exit 1 ;;
    esac
  fi
fi

# The report, from every shard done of each crate.
explained=ci/mutants-explained.tsv
report=reports/mutation.md
status=0
# key: file and mutation without line and column, as explained.tsv has it.
key() { sed -E 's/^([^:]+):[0-9]+:[0-9]+: /\1: /'; }
{
  echo "# Mutation testing"
  echo
  echo "Written by \`ci/mutants.sh\` (cargo-mutants $(cargo mutants --version 2>/dev/null | awk '{print $2}'))"
  echo "from the shards in \`target/mutants/\`; see README, \"Mutation testing\"."
  echo "A mutant is *caught* when a test fails with it, *missed* when every"
  echo "test passes, *unviable* when it does not build; missed mutants are"
  echo "listed in \`ci/mutants-explained.tsv\`, each killed by a test written"
  echo "for it or explained."
  for c in model mock; do
    dirs=$(ls -d target/mutants/$c/shard-*/ 2>/dev/null | while read -r d; do [ -f "$d/done" ] && echo "$d"; done)
    [ -n "$dirs" ] || continue
    again="target/mutants/$c/recheck"
    [ -f "$again/done" ] || again=""
    cat_shards() { for d in $dirs; do cat "$d/mutants.out/$1" 2>/dev/null; done; }
    # (grep reads all its input below: with pipefail, a grep -q that stops
    # early fails the pipeline it ends.)
    # Caught in the recheck (timed out counts as caught), with line and column.
    rechecked() { [ -z "$again" ] || cat "$again/mutants.out/caught.txt" "$again/mutants.out/timeout.txt" 2>/dev/null; }
    # Missed: missed by the shards and not caught by the recheck.
    still_missed() { cat_shards missed.txt | grep -vxF -f <(rechecked; echo "-- none --") || true; }
    # Caught by the shards or by the recheck.
    cat_all() { if [ "$1" = caught.txt ]; then cat_shards caught.txt; rechecked; else cat_shards "$1"; fi; }
    want=$(crate=$c src_hash)
    for d in $dirs $again; do
      got=$(cat "$d/source" 2>/dev/null || echo "none recorded")
      if [ "$got" != "$want" ]; then
        echo "$d ran on another $c/src (source hash $got, now $want): run it again" >&2
        status=1
      fi
    done
    fixed=$(rechecked | wc -l)
    caught=$(( $(cat_shards caught.txt | wc -l) + fixed ))
    missed=$(still_missed | wc -l)
    timeout=$(cat_shards timeout.txt | wc -l)
    unviable=$(cat_all unviable.txt | wc -l)
    viable=$(( caught + missed + timeout ))
    done_shards=$(for d in $dirs; do basename "$d" | sed 's/shard-//; s/-of-/\//'; done | sort -t/ -n | paste -sd' ')
    total=$(cat "target/mutants/$c/total" 2>/dev/null || echo "?")
    echo
    echo "## $c/"
    echo
    echo "Shards run: $done_shards (round-robin; $total mutants in the crate)."
    if [ -n "$again" ]; then
      echo "The $(cat_shards missed.txt | wc -l) mutants the shards missed were run again against the tests"
      echo "written since (\`ci/mutants.sh $c recheck\`, on the same source): $fixed of them are caught now and count as caught."
    fi
    echo
    echo "| mutants tested | caught | missed | timed out (caught) | unviable | missed of viable |"
    echo "|---|---|---|---|---|---|"
    pct=$(awk -v m="$missed" -v v="$viable" 'BEGIN { if (v) printf "%.1f %%", 100*m/v; else print "-" }')
    echo "| $(( viable + unviable )) | $caught | $missed | $timeout | $unviable | $pct |"
    echo
    echo "Missed, each explained:"
    echo
    still_missed | key | sort -u | while IFS= read -r m; do
      why=$(awk -F'\t' -v m="$m" '$1 == "explained" && $2 == m { print $3 }' "$explained")
      if [ -n "$why" ]; then
        echo "- \`$m\`: $why"
      else
        echo "- \`$m\`: NOT EXPLAINED"
      fi
    done
    echo
    echo "Missed by the tests before, caught now by the test written for it:"
    echo
    awk -F'\t' -v c="$c/" '$1 == "killed" && index($2, c) == 1 { print $2 "\t" $3 }' "$explained" |
      while IFS=$'\t' read -r m test; do
        if cat_all caught.txt | key | grep -xF "$m" >/dev/null; then
          echo "- \`$m\`: $test"
        elif still_missed | key | grep -xF "$m" >/dev/null; then
          echo "- \`$m\`: STILL MISSED ($test)"
        else
          echo "- \`$m\`: not in the shards run ($test)"
        fi
      done
  done
} > "$report.new"
mv "$report.new" "$report"
if grep -qE "NOT EXPLAINED|STILL MISSED" "$report"; then
  grep -E "NOT EXPLAINED|STILL MISSED" "$report" >&2
  status=1
fi
echo "wrote $report"
exit $status
