#!/usr/bin/env bash
# The real-device job: builds and boots a Linux 6.12 guest with the kernel's
# mtty sample device (mdev with VFIO v2 migration) under QEMU, runs the
# conformance suites against two mtty instances with `--adapter vfio`, and
# compares the report with the committed one in reports/mtty/.
# Everything comes from Debian's packages; nothing is installed system-wide
# except qemu-system-x86 and cpio.
# Usage: ci/vm/guest.sh [--update]
#   exit 0: the guest ran the suites, mtty behaved as reports/mtty/ says
#           (its known deviations included), or the job could not run here,
#           which it says in one line;
#   --update: copy the guest's report into reports/mtty/ instead of comparing.
set -euo pipefail
cd "$(dirname "$0")/../.."
update=false; [ "${1:-}" = "--update" ] && update=true
repo=$(pwd)
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

# The conformance runner, linked statically so the guest needs no libraries.
bin="$repo/target/x86_64-unknown-linux-gnu/release/vfio-mig"
RUSTFLAGS='-C target-feature=+crt-static' cargo build -q --release --locked --target x86_64-unknown-linux-gnu \
  -p vfio-mig-conformance --features adapter-vfio --bin vfio-mig || { echo "VM job failed: the static runner did not build"; exit 1; }

# The initramfs: busybox, the VFIO modules, mtty, the runner and its known
# deviations, and an init that runs the suites.
init="$work/initramfs"
rm -rf "$init" && mkdir -p "$init"/{bin,dev,proc,sys,mod}
cp "$root/bin/busybox" "$init/bin/busybox"
for m in vfio/vfio vfio/vfio_iommu_type1 vfio/mdev/mdev; do
  src=$(find "$kdir/kernel/drivers" -path "*/$m.ko*" | head -1)
  [ -n "$src" ] || skip "module $m not found in the kernel package"
  case "$src" in *.xz) xz -dc "$src" > "$init/mod/$(basename "$m").ko" ;; *) cp "$src" "$init/mod/" ;; esac
done
cp "$build/mtty.ko" "$init/mod/"
cp "$bin" "$init/bin/vfio-mig"
# The C reproducer of mtty's garbage-stream finding, built from the committed
# report, replays the same calls on the real device in the guest.
repro="$repo/reports/mtty/reproducers/v2-stop-copy-p2p-pre-copy-faults-bad-stream-garbage.c"
if [ -f "$repro" ]; then
  kinc=$(dirname "$(find "$repo/target/kernel-src/src/include/uapi" -name vfio.h 2>/dev/null | head -1)" 2>/dev/null || true)
  cc -static -O1 -D__user= ${kinc:+-I "$(dirname "$kinc")"} -o "$init/bin/repro" "$repro" \
    || { echo "VM job failed: the C reproducer did not build"; exit 1; }
fi
# A small C program that migrates mtty, run under the recorder (a dynamic
# program and a preloaded library: the loader and the libraries they need
# come along).
cargo build -q --locked -p vfio-mig-recorder || { echo "VM job failed: the recorder did not build"; exit 1; }
cc -O1 -o "$init/bin/migrate" "$repo/ci/vm/migrate.c" || { echo "VM job failed: migrate.c did not build"; exit 1; }
mkdir -p "$init/lib"
cp "$repo/target/debug/libvfio_mig_recorder.so" "$init/lib/"
for lib in $(ldd "$init/bin/migrate" "$init/lib/libvfio_mig_recorder.so" | awk '/=> \// { print $3 } /^\t\// { print $1 }' | sort -u); do
  mkdir -p "$init$(dirname "$lib")"; cp -L "$lib" "$init$lib"
done
mkdir -p "$init/etc/dec-013"
cp "$repo/reports/mtty/deviations.yaml" "$init/etc/deviations.yaml"
cp "$repo/reports/mtty/dec-013-enomsg-or-zero/deviations.yaml" "$init/etc/dec-013/deviations.yaml"
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
echo "GUEST: kernel $(uname -r)"
# Two runs: under the catalogue's defaults, and with DEC-013 taken the other
# way so that mtty's pre-copy round trips are checked past its 0-byte read.
run() {
  dir=$1; shift
  /bin/vfio-mig run --adapter vfio --device 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 \
    --device2 83b8f4f2-509f-382f-3c1e-e6bfe0fa1002 --no-timings --report-dir /report/$dir "$@" > /run.log 2>&1
  echo "GUEST: EXIT $dir $?"
  sed 's/^/GUEST: /' /run.log
}
run defaults --deviations /etc/deviations.yaml
run dec-013-enomsg-or-zero --decide DEC-013=enomsg-or-zero --deviations /etc/dec-013/deviations.yaml
# A migration by another program, recorded with LD_PRELOAD and checked offline.
u1=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001; u2=83b8f4f2-509f-382f-3c1e-e6bfe0fa1002
g1=$(basename $(readlink /sys/bus/mdev/devices/$u1/iommu_group)); g2=$(basename $(readlink /sys/bus/mdev/devices/$u2/iommu_group))
mkdir -p /traces
LD_PRELOAD=/lib/libvfio_mig_recorder.so VFIO_MIG_TRACE_DIR=/traces /bin/migrate /dev/vfio/$g1 $u1 /dev/vfio/$g2 $u2 > /m.log 2>&1
echo "GUEST: MIGRATE $?"
sed 's/^/GUEST: migrate: /' /m.log
for t in /traces/*.json; do
  /bin/vfio-mig check-trace $t > /t.log 2>&1; echo "GUEST: TRACE $?"; sed 's/^/GUEST: trace: /' /t.log
done
if [ -x /bin/repro ]; then
  u=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001
  g=$(basename $(readlink /sys/bus/mdev/devices/$u/iommu_group))
  /bin/repro /dev/vfio/$g $u > /repro.log 2>&1
  echo "GUEST: REPRO $?"
  sed 's/^/GUEST: repro: /' /repro.log
fi
# The report leaves on the second serial port, as base64 of a gzipped tar.
tar -c -C / report | gzip | base64 > /dev/ttyS1
echo "GUEST: RESULT DONE"
poweroff -f
INIT
chmod +x "$init/init"
( cd "$init" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$work/initramfs.gz" )

# KVM when it really works (it is often present but broken on nested
# machines), otherwise TCG; each boot is bounded by a timeout.
out=""; data="$work/report.b64"
boot() {
  rm -f "$data"
  out=$(timeout "$2" qemu-system-x86_64 -accel "$1" -cpu "$3" -m 1G -smp 2 -nographic -no-reboot \
    -kernel "$root/boot/vmlinuz-$kver" -initrd "$work/initramfs.gz" \
    -serial mon:stdio -serial file:"$data" \
    -append 'console=ttyS0 panic=-1 quiet' 2>&1) || true
  echo "$out" | grep -aq 'GUEST: RESULT DONE'
}
start=$(date +%s); accel=tcg
if [ -w /dev/kvm ] && boot kvm 60 host; then accel=kvm; else boot tcg 600 max || true; fi
echo "$out" | grep -a 'GUEST:' | sed 's/.*GUEST: \?//' | tr -d '\r' | grep -av '^RESULT' || echo "the guest printed nothing"
echo "guest boot to poweroff ($accel): $(( $(date +%s) - start )) s"
echo "$out" | grep -aq 'GUEST: RESULT DONE' || { echo "VM job failed: the guest did not finish"; exit 1; }
got="$work/report"; rm -rf "$got"; mkdir -p "$got"
tr -d '\r' < "$data" | base64 -d | tar -xz -C "$got" --strip-components=1 \
  || { echo "VM job failed: the guest's report did not arrive intact"; exit 1; }
status=0
for run in defaults dec-013-enomsg-or-zero; do
  want="$repo/reports/mtty"; [ $run = defaults ] || want="$want/$run"
  if $update; then
    cp "$got/$run"/report.md "$got/$run"/report.json "$got/$run"/junit.xml "$got/$run"/states.dot "$want/"
    rm -rf "$want/reproducers"; [ -d "$got/$run/reproducers" ] && cp -r "$got/$run/reproducers" "$want/"
    continue
  fi
  echo "$out" | grep -aq "GUEST: EXIT $run 0" \
    || { echo "VM job failed: the $run run against mtty failed (see above)"; status=1; }
  for f in report.md report.json; do
    diff -u "$want/$f" "$got/$run/$f" > "$work/$run-$f.diff" || {
      echo "VM job failed: the $run run against mtty differs from ${want#"$repo"/}/$f:"
      head -60 "$work/$run-$f.diff"; status=1; }
  done
done
if ! $update; then
  echo "$out" | grep -aq "GUEST: MIGRATE 0" || { echo "VM job failed: the recorded migration did not complete"; status=1; }
  [ "$(echo "$out" | grep -ac 'GUEST: TRACE 0')" = 2 ] \
    || { echo "VM job failed: the recorder's two traces did not both check clean"; status=1; }
fi
if ! $update && [ -f "$repro" ]; then
  echo "$out" | grep -aq "GUEST: REPRO 0" \
    || { echo "VM job failed: the C reproducer did not replay mtty's answers"; status=1; }
fi
$update && echo "reports/mtty/ updated from the guest's runs"
exit $status
