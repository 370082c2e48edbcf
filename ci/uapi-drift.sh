#!/usr/bin/env bash
# The uAPI drift gate: takes include/uapi/linux/vfio.h and
# drivers/vfio/vfio_main.c of each kernel Debian ships (linux-source-6.12
# from bookworm, linux-source-7.3 from trixie-backports, fetched by
# ci/kernel-src.sh) and checks them against the model (states, flags,
# feature and ioctl numbers, the next-state table, the state-flags table);
# runs the tests that read a real source tree (VFIO_MIG_KERNEL_SRC: the
# uapi_drift test on the raw tree, the C reproducers against the uAPI as
# installed for user space); then checks that a deliberately altered copy is
# caught.
# Usage: ci/uapi-drift.sh [VERSION...]   (default: 6.12 7.3)
# One stage per kernel, uapi-drift-VERSION, each reported on its own line at
# the end; a kernel whose package cannot be had skips (see ci/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh

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
  printf '%s\n' "${lines[@]}"
  exit "$status"
fi

ver=$1
stage_begin "uapi-drift-$ver"
t0=$(now)
rc=0; kernel_src "$ver" || rc=$?
[ $rc = 0 ] || { [ $rc = 1 ] && skip "$WHY"; fail "$WHY"; }

vfio_mig() { cargo run -q --locked -p vfio-mig-conformance -- "$@"; }
header="$KSRC/include/uapi/linux/vfio.h"
main="$KSRC/drivers/vfio/vfio_main.c"
echo "checking $KSRC_PKG against the model"
vfio_mig uapi-check --header "$header" --main "$main" || fail "$KSRC_PKG differs from the model"
VFIO_MIG_KERNEL_SRC="$KSRC" cargo test -q --locked -p vfio-mig-conformance --test uapi_drift -- --include-ignored \
  || fail "the test reading $KSRC_PKG's tree failed"
# The reproducers are user programs: they compile against the headers as
# installed for user space.
VFIO_MIG_KERNEL_SRC="$KSRC/installed" cargo test -q --locked -p vfio-mig-report --test c_reproducers \
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
echo "the altered copy was caught"
echo "uapi-drift $ver: $(since "$t0") s"
ran
