#!/usr/bin/env bash
# QEMU's vfio-user client against the mock's vfio-user server: QEMU
# (vfio-user-pci, QEMU 10.1 or later; Debian ships 11.1 in trixie-backports)
# attaches to the server as a PCI device and detaches cleanly, under TCG
# with a paused q35 machine (no KVM, no guest code runs); it also pins down
# that QEMU 11.1's vfio-user client does not migrate device state
# (mock/tests/qemu_vfio_user.rs says what is checked).
# QEMU: the machine's qemu-system-x86_64 when it has vfio-user-pci,
# otherwise trixie-backports' in the minimal trixie root under
# target/vm/trixie-root (shared with ci/vm/guest.sh; made with debootstrap
# when missing), run with chroot.
# Usage: ci/qemu-vfio-user.sh      Stage: qemu-vfio-user.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh
stage_begin qemu-vfio-user
t0=$(now)
txroot="$TARGET/vm/trixie-root"

# The trixie root with trixie-backports' QEMU. Sets WHY and returns 1 when
# it cannot be had.
qemu_root() {
  local mirror
  if [ ! -f "$txroot/.complete" ]; then
    if ! command -v debootstrap >/dev/null 2>&1; then
      machine_apt_has debootstrap && $SUDO apt-get install -y -q --no-install-recommends debootstrap >/dev/null 2>&1 \
        || { WHY="debootstrap could not be installed"; return 1; }
    fi
    mirror=$(debian_mirror) || { WHY="no Debian mirror found in the machine's apt configuration"; return 1; }
    echo "making a minimal trixie root in ${txroot#"$REPO"/} from $mirror"
    $SUDO rm -rf "$txroot" && mkdir -p "$(dirname "$txroot")"
    $SUDO debootstrap --variant=minbase trixie "$txroot" "$mirror" > "$TARGET/vm/debootstrap.log" 2>&1 \
      || { WHY="debootstrap of trixie from $mirror failed: $(tail -1 "$TARGET/vm/debootstrap.log")"; return 1; }
    echo "deb $mirror trixie-backports main" | $SUDO tee "$txroot/etc/apt/sources.list.d/trixie-backports.list" >/dev/null
    $SUDO touch "$txroot/.complete"
  fi
  $SUDO chroot "$txroot" dpkg-query -W -f='${Status}\n' qemu-system-x86 2>/dev/null | grep -q '^install ok installed$' \
    && return 0
  echo "installing qemu-system-x86 from trixie-backports in the trixie root"
  $SUDO chroot "$txroot" apt-get update -q > "$TARGET/vm/trixie-apt.log" 2>&1 \
    || { WHY="apt-get update in the trixie root failed: $(grep -E '^(E|Err):' "$TARGET/vm/trixie-apt.log" | head -1)"; return 1; }
  $SUDO chroot "$txroot" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -t trixie-backports qemu-system-x86 >> "$TARGET/vm/trixie-apt.log" 2>&1 \
    || { WHY="apt-get install of qemu-system-x86 in the trixie root failed: $(grep -E '^E:' "$TARGET/vm/trixie-apt.log" | tail -1)"; return 1; }
}

if command -v qemu-system-x86_64 >/dev/null 2>&1 && qemu-system-x86_64 -device help 2>/dev/null | grep -q '"vfio-user-pci"'; then
  export VFIO_MIG_QEMU=qemu-system-x86_64 VFIO_MIG_QEMU_ROOT=/
  echo "QEMU: $(qemu-system-x86_64 --version | head -1) (this machine's)"
else
  qemu_root || skip "no QEMU with vfio-user-pci on this machine and none from trixie-backports: $WHY"
  export VFIO_MIG_QEMU="$SUDO chroot $txroot qemu-system-x86_64" VFIO_MIG_QEMU_ROOT="$txroot"
  echo "QEMU: $($VFIO_MIG_QEMU --version | head -1) (trixie-backports, in ${txroot#"$REPO"/})"
fi
echo "QEMU ready in $(since "$t0") s"

out=$(mktemp)
# --nocapture: the test prints what QEMU answered to the migration.
ws_test --test qemu_vfio_user -- --nocapture 2>&1 | tee "$out" \
  || { rm -f "$out"; fail "QEMU did not attach to or detach from the mock's server cleanly (see the test's output above)"; }
if grep -q '^SKIP ' "$out"; then
  why=$(grep '^SKIP ' "$out" | head -1 | sed 's/^SKIP [^:]*: //')
  rm -f "$out"
  skip "$why"
fi
rm -f "$out"
echo "attached, migrated without device state, detached in $(since "$t0") s"
ran
