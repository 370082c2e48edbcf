#!/usr/bin/env bash
# The uAPI drift gate: takes the kernel files of each kernel Debian ships
# (linux-source-6.12 from bookworm, linux-source-7.3 from trixie-backports,
# fetched by ci/kernel-src.sh) and checks them against the model with
# `vfio-mig uapi-check --tree`:
#   - every definition of the migration part of include/uapi/linux/vfio.h
#     is a fact the gate knows (cli/src/uapi_drift/known.rs) and equals the
#     model's; an unknown one fails with its name and line;
#   - drivers/vfio/vfio_main.c's next-step and state-flags tables equal the
#     model's derivation;
#   - the kernel text the catalogue cites hashes as in ci/uapi/cited-VERSION.txt
#     (our hashes of it, with the requirements citing each text).
# Then runs the tests that read a real source tree (VFIO_MIG_KERNEL_SRC: the
# uapi_drift test on the raw tree, the C reproducers against the uAPI as
# installed for user space), and checks that deliberately altered copies are
# caught: a changed table entry, an added definition, a changed cited comment.
# Usage: ci/uapi-drift.sh [VERSION...]   (default: 6.12 7.3)
#        ci/uapi-drift.sh --update-cited [VERSION...]
#          rewrites ci/uapi/cited-VERSION.txt from the kernel's text (after a
#          requirement's citation or the kernel's prose changed, and the
#          requirements citing it were reviewed).
# One stage per kernel, uapi-drift-VERSION, each reported on its own line at
# the end; a kernel whose package cannot be had skips (see ci/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh

if [ "${1:-}" = --update-cited ]; then
  shift
  versions=("$@"); [ $# -gt 0 ] || versions=(6.12 7.3)
  for v in "${versions[@]}"; do
    rc=0; kernel_src "$v" || rc=$?
    [ $rc = 0 ] || { echo "Linux $v: $WHY" >&2; exit 1; }
    vfio_mig uapi-check --tree "$KSRC" --kernel "$v" \
      --cited-text "ci/uapi/cited-$v.txt" --update-cited-text | grep -E '^(cited text|  unresolved)'
  done
  exit 0
fi

if [ $# -ne 1 ]; then
  versions=("$@"); [ $# -gt 0 ] || versions=(6.12 7.3)
  status=0; lines=()
  for v in "${versions[@]}"; do
    echo "== uAPI drift gate: Linux $v"
    log=$(mktemp)
    rc=0; bash "$0" "$v" 2>&1 | tee "$log" || rc=$?
    [ "$rc" -gt "$status" ] && status=$rc
    lines+=("$(grep -a '^stage ' "$log" | tail -1)")
    rm -f "$log"
  done
  # Indented: the stage lines above are the ones CI collects.
  printf '  %s\n' "${lines[@]}"
  exit "$status"
fi

ver=$1
stage_begin "uapi-drift-$ver"
t0=$(now)
rc=0; kernel_src "$ver" || rc=$?
[ $rc = 0 ] || { [ $rc = 1 ] && skip "$WHY"; fail "$WHY"; }

header="$KSRC/include/uapi/linux/vfio.h"
main="$KSRC/drivers/vfio/vfio_main.c"
snapshot="ci/uapi/cited-$ver.txt"
echo "checking $KSRC_PKG against the model"
vfio_mig uapi-check --tree "$KSRC" --kernel "$ver" --cited-text "$snapshot" \
  || fail "$KSRC_PKG differs from the model (above: unknown definitions, differing facts or cited text)"
VFIO_MIG_KERNEL_SRC="$KSRC" VFIO_MIG_KERNEL_VERSION="$ver" ws_test -q --test uapi_drift \
  -- --include-ignored || fail "the test reading $KSRC_PKG's tree failed"
# The reproducers are user programs: they compile against the headers as
# installed for user space.
VFIO_MIG_KERNEL_SRC="$KSRC/installed" ws_test -q --test c_reproducers \
  || fail "the C reproducers did not compile against $KSRC_PKG's installed uAPI"

# A copy where STOP_COPY -> PRE_COPY is allowed must be caught.
altered="$TARGET/kernel-src/altered-$ver"
mkdir -p "$altered"
cp "$header" "$altered/vfio.h"
awk '/\[VFIO_DEVICE_STATE_STOP_COPY\] = \{/ { row = 1 }
     row && /\[VFIO_DEVICE_STATE_PRE_COPY\] = VFIO_DEVICE_STATE_ERROR/ { sub(/VFIO_DEVICE_STATE_ERROR/, "VFIO_DEVICE_STATE_PRE_COPY"); row = 0 }
     { print }' "$main" > "$altered/vfio_main.c"
cmp -s "$main" "$altered/vfio_main.c" && fail "the alteration did not apply: $KSRC_PKG's table has another shape"
set +e
out=$(vfio_mig uapi-check --header "$altered/vfio.h" --main "$altered/vfio_main.c")
rc=$?
set -e
echo "$out"
if [ "$rc" != 1 ] || ! echo "$out" | grep -q "vfio_from_fsm_table\[STOP_COPY\]\[PRE_COPY\]: kernel PRE_COPY, model ERROR \[V2-PATH-004"; then
  fail "the drift gate did not catch an altered next-state table"
fi
echo "the altered table was caught"

# A definition added to the migration part must be reported unknown, by name
# and line.
awk '/-------- API for Type1 VFIO IOMMU --------/ && !done { print "#define VFIO_DEVICE_FEATURE_GATE_SELF_CHECK 99"; done = 1 } { print }' \
  "$header" > "$altered/vfio.h"
line=$(grep -n '^#define VFIO_DEVICE_FEATURE_GATE_SELF_CHECK 99$' "$altered/vfio.h" | cut -d: -f1)
[ -n "$line" ] || fail "the added definition did not apply: $KSRC_PKG's vfio.h has no Type1 banner"
set +e
out=$(vfio_mig uapi-check --header "$altered/vfio.h" --kernel "$ver")
rc=$?
set -e
echo "$out" | grep 'GATE_SELF_CHECK' || true
[ "$rc" = 1 ] && echo "$out" | grep -q "unknown: line $line: VFIO_DEVICE_FEATURE_GATE_SELF_CHECK (#define 99)" \
  || fail "the drift gate did not report a definition it does not know"
echo "the added definition was caught"

# A sentence added to a cited comment must be reported with the requirements
# citing it.
awk '/^struct vfio_precopy_info \{/ && prev ~ /^ \*\/$/ { print " *"; print " * A sentence the gate must notice."; }
     NR > 1 { print prev } { prev = $0 } END { print prev }' "$header" > "$altered/vfio.h"
cmp -s "$header" "$altered/vfio.h" && fail "the comment alteration did not apply: no comment right above struct vfio_precopy_info"
mkdir -p "$altered/tree/include/uapi/linux" "$altered/tree/drivers/vfio"
cp "$altered/vfio.h" "$altered/tree/include/uapi/linux/vfio.h"
cp "$main" "$altered/tree/drivers/vfio/vfio_main.c"
set +e
out=$(vfio_mig uapi-check --tree "$altered/tree" --kernel "$ver" --cited-text "$snapshot")
rc=$?
set -e
echo "$out" | grep 'comment above struct vfio_precopy_info' || true
[ "$rc" = 1 ] && echo "$out" | grep -q "comment above struct vfio_precopy_info changed: .*cited by V2-PRE-001" \
  || fail "the drift gate did not report a changed cited comment"
echo "the changed cited comment was caught"
echo "uapi-drift $ver: $(since "$t0") s"
ran
