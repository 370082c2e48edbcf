#!/usr/bin/env bash
# Builds and boots a Linux 6.12 guest with the kernel's mtty sample device
# (mdev with VFIO v2 migration), under QEMU with TCG, and reports what the
# guest saw. This is the bring-up of the real-device job: the guest loads the
# VFIO modules and mtty, creates two mtty instances and checks that their
# VFIO groups exist. Everything comes from Debian's packages; nothing is
# installed system-wide except qemu-system-x86 and cpio.
# Usage: ci/vm/guest.sh   (exit 0: the guest ran and saw two instances, or
# the job could not run here, which it says in one line)
set -euo pipefail
cd "$(dirname "$0")/../.."
work="$(pwd)/target/vm"
mkdir -p "$work/deb"
skip() { echo "VM job skipped: $*"; exit 0; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || ! command -v cpio >/dev/null 2>&1; then
  $SUDO apt-get install -y -q qemu-system-x86 cpio >/dev/null 2>&1 || {
    $SUDO apt-get update -q >/dev/null 2>&1 || true
    $SUDO apt-get install -y -q qemu-system-x86 cpio >/dev/null 2>&1 || skip "qemu-system-x86 and cpio could not be installed"
  }
fi

# The newest 6.12 kernel Debian offers, with the matching headers and kbuild.
ver=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' | awk '{print $1}' \
  | sed -E 's/^linux-image-(.*)-amd64-unsigned$/\1/' | sort -V | tail -1)
[ -n "$ver" ] || { $SUDO apt-get update -q >/dev/null 2>&1 || true; ver=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' | awk '{print $1}' | sed -E 's/^linux-image-(.*)-amd64-unsigned$/\1/' | sort -V | tail -1); }
[ -n "$ver" ] || skip "no linux-image-6.12 package is offered"
root="$work/root-$ver"
if [ ! -d "$root/lib/modules" ]; then
  ( cd "$work/deb" && rm -f ./*.deb && apt-get download -q "linux-image-$ver-amd64-unsigned" "linux-headers-$ver-amd64" \
      "linux-headers-$ver-common" "linux-kbuild-${ver%%+*}+deb12" busybox-static linux-source-6.12 >/dev/null 2>&1 ) \
    || skip "the kernel packages could not be downloaded"
  rm -rf "$root" && mkdir -p "$root"
  for d in "$work"/deb/*.deb; do dpkg-deb -x "$d" "$root"; done
fi
kdir=$(ls -d "$root"/lib/modules/*/ | head -1); kver=$(basename "$kdir")
headers="$root/usr/src/linux-headers-$kver"
# The arch headers include the common tree by absolute path: point it here.
sed -i -E "s#^include /usr/src/#include $root/usr/src/#" "$headers/Makefile"

# mtty.ko, built out of tree from the kernel's sample source.
build="$work/mtty"
if [ ! -f "$build/mtty.ko" ]; then
  mkdir -p "$build"
  tar -xJf "$root/usr/src/linux-source-6.12.tar.xz" -C "$build" --strip-components=3 \
    'linux-source-6.12/samples/vfio-mdev/mtty.c'
  echo 'obj-m := mtty.o' > "$build/Kbuild"
  make -s -C "$headers" M="$build" CONFIG_DEBUG_INFO_BTF_MODULES= modules >/dev/null || skip "mtty.ko did not build"
fi

# The initramfs: busybox, the VFIO modules, mtty, and an init that reports.
init="$work/initramfs"
rm -rf "$init" && mkdir -p "$init"/{bin,dev,proc,sys,mod}
cp "$root/bin/busybox" "$init/bin/busybox"
for m in vfio/vfio vfio/vfio_iommu_type1 vfio/mdev/mdev; do
  src=$(find "$kdir/kernel/drivers" -path "*/$m.ko*" | head -1)
  [ -n "$src" ] || skip "module $m not found in the kernel package"
  case "$src" in *.xz) xz -dc "$src" > "$init/mod/$(basename "$m").ko" ;; *) cp "$src" "$init/mod/" ;; esac
done
cp "$build/mtty.ko" "$init/mod/"
cat > "$init/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in vfio vfio_iommu_type1 mdev mtty; do insmod /mod/$m.ko || echo "GUEST: insmod $m failed"; done
types=/sys/class/mdev_bus/mtty/mdev_supported_types
t=$(ls $types | grep -- '-2$' | head -1)
for u in 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 83b8f4f2-509f-382f-3c1e-e6bfe0fa1002; do
  echo $u > $types/$t/create || echo "GUEST: creating $u failed"
done
n=0
for u in /sys/bus/mdev/devices/*; do
  g=$(basename $(readlink $u/iommu_group)); [ -e /dev/vfio/$g ] && n=$((n+1))
done
echo "GUEST: kernel $(uname -r), $n mtty instances with a VFIO group"
[ $n = 2 ] && echo "GUEST: RESULT PASS" || echo "GUEST: RESULT FAIL"
poweroff -f
INIT
chmod +x "$init/init"
( cd "$init" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$work/initramfs.gz" )

accel="tcg"; cpu="max"
start=$(date +%s)
out=$(timeout 180 qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -m 1G -smp 2 -nographic -no-reboot \
  -kernel "$root/boot/vmlinuz-$kver" -initrd "$work/initramfs.gz" \
  -append 'console=ttyS0 panic=-1 quiet' 2>&1) || true
echo "$out" | grep -a 'GUEST:' | sed 's/.*GUEST:/GUEST:/' | tr -d '\r' || echo "the guest printed no result"
echo "guest boot to poweroff: $(( $(date +%s) - start )) s"
echo "$out" | grep -aq 'GUEST: RESULT PASS'
