#!/usr/bin/env bash
# The real-device job: boots a Linux guest with the kernel's mtty sample
# device (mdev with VFIO v2 migration) under QEMU, runs the conformance
# suites against two mtty instances with `--adapter vfio`, and compares the
# reports with the committed ones in reports/mtty/KERNEL/.
# Kernels, everything from Debian's packages:
#   6.12  bookworm(-security): the newest linux-image-6.12.*-amd64-unsigned,
#         its headers and kbuild; mtty built on this machine.
#   7.3   trixie-backports (through a private apt list): the newest
#         linux-binary-7.3.* and linux-modules-7.3.*; mtty built with the
#         7.3 headers inside a minimal trixie root (they need trixie's
#         gcc-14), made once with debootstrap under target/vm/trixie-root.
# mtty.c comes from the kernel's linux-source package (ci/kernel-src.sh).
# QEMU: the machine's qemu-system-x86_64 when it has one, otherwise trixie's,
# installed in the trixie root and run there (bookworm's qemu-system-x86
# would remove the machine's newer qemu-utils). Installed system-wide, only
# if missing: cpio, and debootstrap when the trixie root is needed.
# With --qemu the guest runs QEMU instead of the suites: trixie-backports'
# QEMU, nested under TCG, migrates a paused VM holding one mtty instance into
# a second QEMU holding the other, with the recorder preloaded into both, and
# both traces are checked with `vfio-mig check-trace` and compared with
# reports/mtty/qemu/ (ci/vm/qemu-job.sh; stage guest-qemu-KERNEL).
# Usage: ci/vm/guest.sh [--kernel 6.12|7.3] [--qemu] [--update]
#   exit 0: the guest ran the suites and mtty behaved as the committed
#           reports say (its known deviations included), or the job was
#           skipped outside CI (see ci/lib.sh: stage guest-KERNEL);
#   --update: copy the guest's reports into reports/mtty/KERNEL/ instead of
#           comparing (the deviations files there are inputs, kept by hand).
# Prints how long each part took.
set -euo pipefail
cd "$(dirname "$0")/../.."
source ci/lib.sh
kernel=6.12; update=false; qemu_mode=false
while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) kernel=${2:?--kernel needs 6.12 or 7.3}; shift 2 ;;
    --kernel=*) kernel=${1#--kernel=}; shift ;;
    --update) update=true; shift ;;
    --qemu) qemu_mode=true; shift ;;
    *) echo "usage: ci/vm/guest.sh [--kernel 6.12|7.3] [--qemu] [--update]" >&2; exit 1 ;;
  esac
done
case "$kernel" in 6.12 | 7.3) ;; *) echo "unknown kernel $kernel (known: 6.12, 7.3)" >&2; exit 1 ;; esac
if $qemu_mode; then stage_begin "guest-qemu-$kernel"; else stage_begin "guest-$kernel"; fi
repo=$REPO
work="$TARGET/vm/$kernel"
want_dir="$repo/reports/mtty/$kernel"
txroot="$TARGET/vm/trixie-root"
mkdir -p "$work"
t_all=$(now); timings=()
timed() { timings+=("$1 $(since "$2") s"); }

# Mounts made in the trixie root are undone however the script ends.
mounted=()
unmount_all() {
  local m
  for m in "${mounted[@]}"; do $SUDO umount "$m" 2>/dev/null || $SUDO umount -l "$m" 2>/dev/null || true; done
  mounted=()
}
trap 'rc=$?; unmount_all; stage_on_exit $rc $LINENO' EXIT

# The trixie root, with PACKAGES installed (from trixie-backports when it
# has them, else trixie). Sets WHY and returns 1 when it cannot be had.
trixie_root() {
  local mirror missing=() p
  if [ ! -f "$txroot/.complete" ]; then
    if ! command -v debootstrap >/dev/null 2>&1; then
      machine_apt_has debootstrap && $SUDO apt-get install -y -q --no-install-recommends debootstrap >/dev/null 2>&1 \
        || { WHY="debootstrap could not be installed"; return 1; }
    fi
    mirror=$(debian_mirror) || { WHY="no Debian mirror found in the machine's apt configuration"; return 1; }
    echo "making a minimal trixie root in ${txroot#"$repo"/} from $mirror"
    $SUDO rm -rf "$txroot" && mkdir -p "$(dirname "$txroot")"
    $SUDO debootstrap --variant=minbase trixie "$txroot" "$mirror" > "$TARGET/vm/debootstrap.log" 2>&1 \
      || { WHY="debootstrap of trixie from $mirror failed: $(tail -1 "$TARGET/vm/debootstrap.log")"; return 1; }
    echo "deb $mirror trixie-backports main" | $SUDO tee "$txroot/etc/apt/sources.list.d/trixie-backports.list" >/dev/null
    $SUDO touch "$txroot/.complete"
  fi
  for p in "$@"; do
    $SUDO chroot "$txroot" dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
      || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "installing in the trixie root: ${missing[*]}"
  if [ -z "$(find "$txroot/var/lib/apt/lists" -maxdepth 1 -name '*trixie-backports_main_binary-amd64_Packages*' -mmin -360 2>/dev/null)" ]; then
    $SUDO chroot "$txroot" apt-get update -q > "$TARGET/vm/trixie-apt.log" 2>&1 \
      || { WHY="apt-get update in the trixie root failed: $(grep -E '^(E|Err):' "$TARGET/vm/trixie-apt.log" | head -1)"; return 1; }
  fi
  $SUDO chroot "$txroot" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -t trixie-backports "${missing[@]}" >> "$TARGET/vm/trixie-apt.log" 2>&1 \
    || { WHY="apt-get install in the trixie root failed for ${missing[*]}: $(grep -E '^E:' "$TARGET/vm/trixie-apt.log" | tail -1)"; return 1; }
}

# mount_proc_in_root: objtool reads /proc while building modules.
mount_proc_in_root() {
  mountpoint -q "$txroot/proc" && return 0
  $SUDO mount -t proc proc "$txroot/proc" && mounted+=("$txroot/proc")
}

t0=$(now)
if ! command -v cpio >/dev/null 2>&1; then
  machine_apt_has cpio && $SUDO apt-get install -y -q cpio >/dev/null 2>&1 || skip "cpio could not be installed"
fi

# QEMU: the machine's, else trixie's in the trixie root.
qemu_in_root=false
command -v qemu-system-x86_64 >/dev/null 2>&1 || qemu_in_root=true
timed "host tools" "$t0"

# The kernel's sources: mtty.c, and the uAPI the C reproducer compiles with.
t0=$(now)
rc=0; kernel_src "$kernel" || rc=$?
[ $rc = 0 ] || { [ $rc = 1 ] && skip "$WHY"; fail "$WHY"; }
timed "kernel sources" "$t0"

# The kernel, its modules and mtty.ko. Sets vmlinuz, kdir (the modules
# directory of the kernel) and kver.
build="$work/mtty"
t0=$(now)
if [ "$kernel" = 6.12 ]; then
  # The newest 6.12 kernel Debian offers, with the matching headers and kbuild.
  kpkgs() { apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' | awk '{print $1}' \
    | sed -E 's/^linux-image-(.*)-amd64-unsigned$/\1/' | sort -V | tail -1; }
  ver=$(kpkgs)
  [ -n "$ver" ] || { $SUDO apt-get update -q >/dev/null 2>&1 || true; ver=$(kpkgs); }
  [ -n "$ver" ] || skip "no linux-image-6.12 package is offered"
  root="$work/root-$ver"
  if [ ! -d "$root/lib/modules" ]; then
    rm -rf "$work/deb" && mkdir -p "$work/deb"
    ( cd "$work/deb" && apt-get download -q -o APT::Sandbox::User=root "linux-image-$ver-amd64-unsigned" \
        "linux-headers-$ver-amd64" "linux-headers-$ver-common" "linux-kbuild-${ver%%+*}+deb12" busybox-static \
        >/dev/null 2>&1 ) || skip "the 6.12 kernel packages could not be downloaded"
    rm -rf "$root" && mkdir -p "$root"
    for d in "$work"/deb/*.deb; do dpkg-deb -x "$d" "$root"; done
    rm -rf "$work/deb"
  fi
  kdir=$(ls -d "$root"/lib/modules/*/ | head -1); kver=$(basename "$kdir")
  vmlinuz="$root/boot/vmlinuz-$kver"
  busybox="$root/bin/busybox"
  echo "kernel: linux-image-$ver-amd64-unsigned (bookworm)"
  timed "kernel packages" "$t0"
  headers="$root/usr/src/linux-headers-$kver"
  # The arch headers include the common tree by absolute path: point it here.
  sed -i -E "s#^include /usr/src/#include $root/usr/src/#" "$headers/Makefile"
  t0=$(now)
  if [ ! -f "$build/mtty.ko" ] || ! cmp -s "$KSRC/samples/vfio-mdev/mtty.c" "$build/mtty.c"; then
    rm -rf "$build" && mkdir -p "$build"
    cp "$KSRC/samples/vfio-mdev/mtty.c" "$build/"
    echo 'obj-m := mtty.o' > "$build/Kbuild"
    make -s -C "$headers" M="$build" CONFIG_DEBUG_INFO_BTF_MODULES= modules >/dev/null || fail "mtty.ko did not build"
  fi
  timed "mtty build" "$t0"
else
  trixie_apt || skip "$WHY"
  ver=$(newest_pkg '^linux-modules-7\.3\.[0-9]+\+deb13-amd64$' apt-cache "${TAPT[@]}" | sed -E 's/^linux-modules-(.*)-amd64$/\1/')
  [ -n "$ver" ] || skip "no linux-modules-7.3 package is offered by trixie-backports"
  root="$work/root-$ver"
  if [ ! -d "$root/usr/lib/modules" ] || [ ! -f "$root/bin/busybox" ]; then
    rm -rf "$work/deb" && mkdir -p "$work/deb"
    ( cd "$work/deb" && apt-get download -q "${TAPT[@]}" "linux-binary-$ver-amd64" "linux-modules-$ver-amd64" \
        >/dev/null 2>&1 ) || skip "linux-binary-$ver-amd64 and linux-modules-$ver-amd64 could not be downloaded"
    ( cd "$work/deb" && apt-get download -q -o APT::Sandbox::User=root busybox-static >/dev/null 2>&1 ) \
      || skip "busybox-static could not be downloaded"
    rm -rf "$root" && mkdir -p "$root"
    for d in "$work"/deb/*.deb; do dpkg-deb -x "$d" "$root"; done
    rm -rf "$work/deb"
  fi
  kdir="$root/usr/lib/modules/$ver-amd64/"; kver="$ver-amd64"
  vmlinuz="$root/usr/lib/modules/$kver/vmlinuz"
  busybox="$root/bin/busybox"
  [ -f "$vmlinuz" ] || fail "linux-binary-$kver has no usr/lib/modules/$kver/vmlinuz"
  echo "kernel: linux-binary-$kver and linux-modules-$kver (trixie-backports)"
  timed "kernel packages" "$t0"
  # mtty against the 7.3 headers, in the trixie root (gcc-14, trixie's libc
  # for the kbuild tools).
  t0=$(now)
  root_pkgs=("linux-headers-$kver" make binutils libc6-dev)
  { $qemu_in_root || $qemu_mode; } && root_pkgs+=(qemu-system-x86)
  trixie_root "${root_pkgs[@]}" || skip "$WHY"
  timed "trixie root" "$t0"
  t0=$(now)
  if [ ! -f "$build/mtty.ko" ] || ! cmp -s "$KSRC/samples/vfio-mdev/mtty.c" "$build/mtty.c" \
      || [ "$(cat "$build/KVER" 2>/dev/null)" != "$kver" ]; then
    rm -rf "$build" && $SUDO rm -rf "$txroot/build/mtty" && $SUDO mkdir -p "$txroot/build/mtty"
    $SUDO cp "$KSRC/samples/vfio-mdev/mtty.c" "$txroot/build/mtty/"
    echo 'obj-m := mtty.o' | $SUDO tee "$txroot/build/mtty/Kbuild" >/dev/null
    mount_proc_in_root || fail "could not mount /proc in the trixie root"
    $SUDO chroot "$txroot" make -s -C "/usr/src/linux-headers-$kver" M=/build/mtty modules > "$work/mtty-build.log" 2>&1 \
      || { cat "$work/mtty-build.log"; fail "mtty.ko did not build against linux-headers-$kver"; }
    unmount_all
    mkdir -p "$build"
    cp "$txroot/build/mtty/mtty.ko" "$txroot/build/mtty/mtty.c" "$build/"
    echo "$kver" > "$build/KVER"
  fi
  timed "mtty build" "$t0"
fi

if { $qemu_in_root || $qemu_mode; } && [ "$kernel" = 6.12 ]; then
  t0=$(now)
  trixie_root qemu-system-x86 || skip "trixie's QEMU could not be had: $WHY"
  timed "trixie root" "$t0"
fi
if $qemu_in_root; then
  echo "QEMU: $($SUDO chroot "$txroot" qemu-system-x86_64 --version | head -1) (trixie, in the trixie root)"
else
  echo "QEMU: $(qemu-system-x86_64 --version | head -1) (this machine's)"
fi

# QEMU as the migrating client: its own guest, its own results.
if $qemu_mode; then
  # shellcheck source=ci/vm/qemu-job.sh
  source "$repo/ci/vm/qemu-job.sh"
fi

# The conformance runner, linked statically so the guest needs no libraries.
t0=$(now)
# The `guest` profile: release at opt-level 1, which builds in two thirds of
# the time and runs the suites as fast under emulation.
bin="$repo/target/x86_64-unknown-linux-gnu/guest/vfio-mig"
RUSTFLAGS='-C target-feature=+crt-static' cargo build -q --profile guest --locked --target x86_64-unknown-linux-gnu \
  -p vfio-mig-conformance --features adapter-vfio --bin vfio-mig || fail "the static runner did not build"

# The initramfs: busybox, the VFIO modules, mtty, the runner and its known
# deviations, and an init that runs the suites.
[ -f "$want_dir/deviations.yaml" ] && [ -f "$want_dir/dec-013-enomsg-or-zero/deviations.yaml" ] \
  || fail "reports/mtty/$kernel/deviations.yaml and dec-013-enomsg-or-zero/deviations.yaml must exist (the known deviations, kept by hand)"
init="$work/initramfs"
rm -rf "$init" && mkdir -p "$init"/{bin,dev,proc,sys,mod}
cp "$busybox" "$init/bin/busybox"
for m in vfio/vfio vfio/vfio_iommu_type1 vfio/mdev/mdev; do
  src=$(find "$kdir/kernel/drivers" -path "*/$m.ko*" | head -1)
  [ -n "$src" ] || fail "module $m not found in the kernel package"
  case "$src" in *.xz) xz -dc "$src" > "$init/mod/$(basename "$m").ko" ;; *) cp "$src" "$init/mod/" ;; esac
done
cp "$build/mtty.ko" "$init/mod/"
cp "$bin" "$init/bin/vfio-mig"
# The C reproducer of mtty's garbage-stream finding, built from the committed
# report, replays the same calls on the real device in the guest.
repro="$want_dir/reproducers/v2-stop-copy-p2p-pre-copy-faults-bad-stream-garbage.c"
if [ -f "$repro" ]; then
  cc -static -O1 -I "$KSRC/installed/include/uapi" -o "$init/bin/repro" "$repro" \
    || fail "the C reproducer did not build"
  # How many instances it opens: a check that saves on one instance and
  # resumes on the other replays on both.
  if grep -q 'argc != 5' "$repro"; then echo 2 > "$init/repro.instances"; else echo 1 > "$init/repro.instances"; fi
fi
# A small C program that migrates mtty, run under the recorder (a dynamic
# program and a preloaded library: the loader and the libraries they need
# come along).
ws_built || fail "the recorder did not build"
cc -O1 -o "$init/bin/migrate" "$repo/ci/vm/migrate.c" || fail "migrate.c did not build"
timed "runner, recorder and C programs" "$t0"
t0=$(now)
mkdir -p "$init/lib"
cp "$RECORDER_SO" "$init/lib/libvfio_mig_recorder.so"
for lib in $(ldd "$init/bin/migrate" "$init/lib/libvfio_mig_recorder.so" | awk '/=> \// { print $3 } /^\t\// { print $1 }' | sort -u); do
  mkdir -p "$init$(dirname "$lib")"; cp -L "$lib" "$init$lib"
done
mkdir -p "$init/etc/dec-013"
cp "$want_dir/deviations.yaml" "$init/etc/deviations.yaml"
cp "$want_dir/dec-013-enomsg-or-zero/deviations.yaml" "$init/etc/dec-013/deviations.yaml"
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
  if [ "$(cat /repro.instances)" = 2 ]; then
    /bin/repro /dev/vfio/$g1 $u1 /dev/vfio/$g2 $u2 > /repro.log 2>&1
  else
    /bin/repro /dev/vfio/$g1 $u1 > /repro.log 2>&1
  fi
  echo "GUEST: REPRO $?"
  sed 's/^/GUEST: repro: /' /repro.log
fi
# The report leaves on the second serial port, as base64 of a gzipped tar.
tar -c -C / report | gzip | base64 > /dev/ttyS1
echo "GUEST: RESULT DONE"
poweroff -f
INIT
chmod +x "$init/init"
# The boot files where QEMU can read them (inside the root for its QEMU).
if $qemu_in_root; then
  boot_dir="$txroot/var/tmp/vfio-mig-guest-$kernel"; boot_seen="/var/tmp/vfio-mig-guest-$kernel"
  qemu=("$SUDO" chroot "$txroot" qemu-system-x86_64)
  [ -n "$SUDO" ] || qemu=(chroot "$txroot" qemu-system-x86_64)
else
  boot_dir="$work/boot"; boot_seen="$boot_dir"
  qemu=(qemu-system-x86_64)
fi
$SUDO rm -rf "$boot_dir" && $SUDO mkdir -p "$boot_dir"
( cd "$init" && find . | cpio -o -H newc 2>/dev/null | gzip -1 ) | $SUDO tee "$boot_dir/initramfs.gz" >/dev/null
$SUDO cp "$vmlinuz" "$boot_dir/vmlinuz"
timed "initramfs" "$t0"

# KVM when it really works (it is often present but broken on nested
# machines), otherwise TCG; each boot is bounded by a timeout.
out=""; data="$boot_dir/report.b64"
boot() {
  $SUDO rm -f "$data"
  out=$(timeout "$2" "${qemu[@]}" -accel "$1" -cpu "$3" -m 1G -smp 2 -nographic -no-reboot \
    -kernel "$boot_seen/vmlinuz" -initrd "$boot_seen/initramfs.gz" \
    -serial mon:stdio -serial file:"$boot_seen/report.b64" \
    -append 'console=ttyS0 panic=-1 quiet' 2>&1) || true
  echo "$out" | grep -aq 'GUEST: RESULT DONE'
}
t0=$(now); accel=tcg
if ! $qemu_in_root && [ -w /dev/kvm ] && boot kvm 60 host; then accel=kvm; else boot tcg 600 max || true; fi
echo "$out" | grep -a 'GUEST:' | sed 's/.*GUEST: \?//' | tr -d '\r' | grep -av '^RESULT' || echo "the guest printed nothing"
echo "guest boot to poweroff ($accel): $(since "$t0") s"
timed "boot and suites ($accel)" "$t0"
echo "$out" | grep -aq 'GUEST: RESULT DONE' || { echo "$out" | tail -20; fail "the guest did not finish"; }
got="$work/report"; rm -rf "$got"; mkdir -p "$got"
tr -d '\r' < "$data" | base64 -d | tar -xz -C "$got" --strip-components=1 \
  || fail "the guest's report did not arrive intact"
echo "$out" | grep -aq "GUEST: kernel $kver" || fail "the guest did not run kernel $kver"
status=0; why=()
for run in defaults dec-013-enomsg-or-zero; do
  want="$want_dir"; [ $run = defaults ] || want="$want/$run"
  if $update; then
    mkdir -p "$want"
    cp "$got/$run"/report.md "$got/$run"/report.json "$got/$run"/junit.xml "$got/$run"/states.dot "$want/"
    rm -rf "$want/reproducers"; [ -d "$got/$run/reproducers" ] && cp -r "$got/$run/reproducers" "$want/"
    continue
  fi
  echo "$out" | grep -aq "GUEST: EXIT $run 0" \
    || { echo "the $run run against mtty failed (see above)"; why+=("the $run run failed"); status=1; }
  for f in report.md report.json; do
    diff -u "$want/$f" "$got/$run/$f" > "$work/$run-$f.diff" || {
      echo "the $run run against mtty differs from ${want#"$repo"/}/$f:"
      head -60 "$work/$run-$f.diff"; why+=("${want#"$repo"/}/$f differs"); status=1; }
  done
done
if ! $update; then
  echo "$out" | grep -aq "GUEST: MIGRATE 0" || { why+=("the recorded migration did not complete"); status=1; }
  [ "$(echo "$out" | grep -ac 'GUEST: TRACE 0')" = 2 ] \
    || { why+=("the recorder's two traces did not both check clean"); status=1; }
fi
if ! $update && [ -f "$repro" ]; then
  echo "$out" | grep -aq "GUEST: REPRO 0" \
    || { why+=("the C reproducer did not replay mtty's answers"); status=1; }
fi
$update && echo "reports/mtty/$kernel/ updated from the guest's runs"
timed total "$t_all"
printf 'time: %s\n' "${timings[@]}"
[ $status = 0 ] || fail "$(IFS=';'; echo "${why[*]}")"
ran
