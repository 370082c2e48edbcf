#!/usr/bin/env bash
# Runs the kernel's own next-state code. Takes vfio_mig_get_next_state()
# (the whole function, with its two static tables) out of
# drivers/vfio/vfio_main.c of Debian's linux-source-VERSION (fetched by
# ci/kernel-src.sh), compiles it unchanged with ci/nextstate/harness.c and
# ci/nextstate/kstub.h, and runs every flags combination and every (from, to)
# pair the way a driver steps through it. The output, in the format
# documented at the top of harness.c, goes to
#   target/nextstate/VERSION/next-state.txt
# Every case is then compared with the model by
#   vfio-mig uapi-check --next-state target/nextstate/VERSION/next-state.txt
# (result, path, first return value, WARN_ON count; a LOOP or HANG is always a
# failure that says so).
# Self-check: the same function with a table entry altered so that
# STOP_COPY -> PRE_COPY cycles (STOP_COPY -> STOP -> STOP_COPY ..., the shape
# of the spinning the 6.2 .. 6.12.116 kernels had) must be reported as LOOP,
# and one whose skipping of unsupported states cycles inside a single call
# as HANG; the unaltered function must have neither.
# Usage: ci/nextstate.sh 6.12|7.3
# Stage: nextstate-VERSION.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh
ver=${1:?usage: ci/nextstate.sh 6.12|7.3}
stage_begin "nextstate-$ver"
t0=$(now)
rc=0; kernel_src "$ver" || rc=$?
[ $rc = 0 ] || { [ $rc = 1 ] && skip "$WHY"; fail "$WHY"; }
command -v cc >/dev/null 2>&1 || skip "no C compiler (cc) on this machine"

work="$TARGET/nextstate/$ver"
rm -rf "$work" && mkdir -p "$work"
main="$KSRC/drivers/vfio/vfio_main.c"

# The function, by brace matching from its first line; comments, strings
# and character literals do not count.
extract() {
  awk '
    !on && /^int vfio_mig_get_next_state\(/ { on = 1; printf "#line %d \"drivers/vfio/vfio_main.c\"\n", NR }
    !on { next }
    {
      print
      t = $0
      if (incomment) { if (sub(/^.*\*\//, "", t)) incomment = 0; else next }
      gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "", t)
      if (sub(/\/\*.*$/, "", t)) incomment = 1
      sub(/\/\/.*$/, "", t)
      gsub(/"([^"\\]|\\.)*"/, "", t)
      gsub(/'\''([^'\''\\]|\\.)*'\''/, "", t)
      opens = gsub(/\{/, "", t); closes = gsub(/\}/, "", t)
      depth += opens - closes
      if (opens) seen = 1
      if (seen && depth == 0) { done = 1; exit }
    }
    END { exit done ? 0 : 1 }' "$1"
}
{ echo '#include "kstub.h"'; extract "$main"; } > "$work/next_state.c" \
  || fail "vfio_mig_get_next_state() not found, or its braces do not match, in $KSRC_PKG's vfio_main.c"
for want in vfio_from_fsm_table state_flags_table 'return (\*next_fsm != VFIO_DEVICE_STATE_ERROR)'; do
  grep -q "$want" "$work/next_state.c" || fail "the extracted function lacks $want: vfio_main.c changed shape"
done
echo "extracted vfio_mig_get_next_state() from $KSRC_PKG: $(($(wc -l < "$work/next_state.c") - 2)) lines"

# set_entry ROW COL VALUE: vfio_from_fsm_table[ROW][COL] = VALUE (state
# names without VFIO_DEVICE_STATE_), exactly once.
set_entry() {
  awk -v row="$1" -v col="$2" -v val="$3" '
    $0 ~ "\\[VFIO_DEVICE_STATE_" row "\\] = \\{" { inrow = 1 }
    inrow && $0 ~ "\\[VFIO_DEVICE_STATE_" col "\\] = VFIO_DEVICE_STATE_[A-Z0-9_]+," {
      sub(/= VFIO_DEVICE_STATE_[A-Z0-9_]+,/, "= VFIO_DEVICE_STATE_" val ",")
      inrow = 0; changed++
    }
    inrow && /^[[:space:]]*\},/ { inrow = 0 }
    { print }
    END { exit changed == 1 ? 0 : 1 }'
}
# The historical loop: STOP_COPY -> PRE_COPY steps to STOP, and STOP -> PRE_COPY
# steps back to STOP_COPY.
set_entry STOP_COPY PRE_COPY STOP < "$work/next_state.c" | set_entry STOP PRE_COPY STOP_COPY \
  > "$work/next_state_loop.c" || fail "the loop alteration did not apply: the table changed shape"
# A spin inside one call: without P2P and PRE_COPY, STOP -> RUNNING skips
# RUNNING_P2P to PRE_COPY and PRE_COPY back to RUNNING_P2P, both unsupported.
set_entry RUNNING_P2P RUNNING PRE_COPY < "$work/next_state.c" | set_entry PRE_COPY RUNNING RUNNING_P2P \
  > "$work/next_state_spin.c" || fail "the spin alteration did not apply: the table changed shape"

for v in "" _loop _spin; do
  cc -O1 -Wall -Wextra -I ci/nextstate -I "$KSRC/installed/include/uapi" -o "$work/nextstate$v" \
    ci/nextstate/harness.c "$work/next_state$v.c" 2> "$work/cc$v.log" \
    || { cat "$work/cc$v.log"; fail "the harness did not compile with $KSRC_PKG's function"; }
  [ -s "$work/cc$v.log" ] && cat "$work/cc$v.log"
  {
    echo "# $KSRC_PKG: drivers/vfio/vfio_main.c, vfio_mig_get_next_state()${v:+ altered (${v#_})}"
    "$work/nextstate$v"
  } > "$work/next-state$v.txt" || fail "the harness failed${v:+ on the ${v#_} alteration}"
done

summary() { grep -v '^#' "$1" | grep -o 'result=[A-Z0-9-]*' | sort | uniq -c | awk '{printf "%s %s, ", $2, $1}' | sed 's/result=//g; s/, $//'; }
out="$work/next-state.txt"
cases=$(grep -vc '^#' "$out")
[ "$cases" = 256 ] || fail "the harness printed $cases cases, not 256"
echo "the kernel's function, driven like a driver: $(summary "$out")"
echo "written to ${out#"$REPO"/}"
if grep -qE 'result=(LOOP|HANG)' "$out"; then
  grep -E 'result=(LOOP|HANG)' "$out" | head
  fail "$KSRC_PKG's vfio_mig_get_next_state loops or spins"
fi
# STOP_COPY -> PRE_COPY with every flag: refused.
grep -q '^flags=7 from=3 to=6 first=-22 result=EINVAL path=3 ' "$out" \
  || fail "STOP_COPY -> PRE_COPY is not refused by $KSRC_PKG's function"
echo "with the loop alteration: $(summary "$work/next-state_loop.txt")"
grep -q '^flags=7 from=3 to=6 first=0 result=LOOP path=3,1,3,1,' "$work/next-state_loop.txt" \
  || fail "the harness did not report the altered STOP_COPY -> PRE_COPY as LOOP"
echo "with the spin alteration: $(summary "$work/next-state_spin.txt")"
grep -q '^flags=1 from=1 to=2 first=HANG result=HANG path=1 ' "$work/next-state_spin.txt" \
  || fail "the harness did not report the altered STOP -> RUNNING as HANG"
echo "self-check: the unaltered function has no LOOP or HANG; both alterations were caught"

# Each case against the model, in Rust.
vfio_mig uapi-check --next-state "$out" \
  || fail "$KSRC_PKG's vfio_mig_get_next_state disagrees with the model (above)"
for v in loop:'flags=7 STOP_COPY -> PRE_COPY: LOOP' spin:'flags=1 STOP -> RUNNING: HANG'; do
  set +e
  got=$(vfio_mig uapi-check --next-state "$work/next-state_${v%%:*}.txt")
  rc=$?
  set -e
  echo "$got" | grep -F "${v#*:}" || true
  [ "$rc" = 1 ] && echo "$got" | grep -qF "${v#*:}" \
    || fail "uapi-check --next-state did not report the ${v%%:*} alteration as ${v#*:}"
done
echo "self-check: uapi-check --next-state agrees with the unaltered function and names both alterations"
echo "nextstate $ver: $(since "$t0") s"
ran
