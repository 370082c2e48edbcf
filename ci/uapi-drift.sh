#!/usr/bin/env bash
# The uAPI drift gate: takes include/uapi/linux/vfio.h and
# drivers/vfio/vfio_main.c from Debian's linux-source-6.12 package and checks
# them against the model (states, flags, feature and ioctl numbers, the
# next-state table, the state-flags table); then checks that a deliberately
# altered copy is caught. When the package cannot be had, says so in one line.
set -euo pipefail
cd "$(dirname "$0")/.."
work="target/kernel-src"
mkdir -p "$work"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

if [ ! -f "$work/src/drivers/vfio/vfio_main.c" ]; then
  if ! apt-cache show linux-source-6.12 >/dev/null 2>&1; then
    $SUDO apt-get update -q >/dev/null 2>&1 || true
  fi
  ( cd "$work" && rm -f linux-source-6.12_*.deb && apt-get download -q linux-source-6.12 >/dev/null 2>&1 ) || {
    echo "uAPI drift gate skipped: the linux-source-6.12 package could not be downloaded"
    exit 0
  }
  rm -rf "$work/pkg" "$work/src"
  dpkg-deb -x "$work"/linux-source-6.12_*.deb "$work/pkg"
  tar -xJf "$work"/pkg/usr/src/linux-source-6.12.tar.xz -C "$work" --wildcards \
    'linux-source-6.12/include/uapi/linux/vfio.h' 'linux-source-6.12/drivers/vfio/vfio_main.c'
  mv "$work/linux-source-6.12" "$work/src"
  rm -rf "$work/pkg" "$work"/linux-source-6.12_*.deb
fi

vfio_mig() { cargo run -q --locked -p vfio-mig-conformance -- "$@"; }
header="$work/src/include/uapi/linux/vfio.h"
main="$work/src/drivers/vfio/vfio_main.c"
echo "checking the Linux 6.12 sources against the model"
vfio_mig uapi-check --header "$header" --main "$main"
VFIO_MIG_KERNEL_SRC="$(pwd)/$work/src" cargo test -q --locked -p vfio-mig-conformance --test uapi_drift \
  --test c_reproducers

# A copy where STOP_COPY -> PRE_COPY is allowed must be caught.
mkdir -p "$work/altered"
cp "$header" "$work/altered/vfio.h"
awk '/\[VFIO_DEVICE_STATE_STOP_COPY\] = \{/ { row = 1 }
     row && /\[VFIO_DEVICE_STATE_PRE_COPY\] = VFIO_DEVICE_STATE_ERROR/ { sub(/VFIO_DEVICE_STATE_ERROR/, "VFIO_DEVICE_STATE_PRE_COPY"); row = 0 }
     { print }' "$main" > "$work/altered/vfio_main.c"
set +e
out=$(vfio_mig uapi-check --header "$work/altered/vfio.h" --main "$work/altered/vfio_main.c")
rc=$?
set -e
echo "$out"
if [ "$rc" != 1 ] || ! echo "$out" | grep -q "vfio_from_fsm_table\[STOP_COPY\]\[PRE_COPY\]: kernel PRE_COPY, model ERROR \[V2-PATH-004"; then
  echo "the drift gate did not catch an altered next-state table" >&2
  exit 1
fi
echo "the altered copy was caught"
