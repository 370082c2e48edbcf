# shellcheck shell=bash disable=SC2154
# QEMU as the migrating client, on a real VFIO migration device: sourced by
# ci/vm/guest.sh --qemu once the guest kernel, its modules, mtty.ko and the
# trixie root (with trixie-backports' QEMU) are ready. Never run directly.
#
# The guest boots under the machine's QEMU (TCG) with the trixie root shared
# read-only over 9p. Inside it, trixie's QEMU (nested, TCG) starts two paused
# VMs (-S, 32 MB, q35, no devices but one vfio-pci device each, taken from an
# mtty instance with sysfsdev=), with the recorder preloaded into both, and
# migrates the first into the second over a UNIX socket (QMP `migrate`); the
# destination is then continued (`cont`), so that its device leaves
# RESUMING, and both quit. The two traces come back on the second serial
# port; `vfio-mig check-trace` judges each here on the host.
#
# Compared with reports/mtty/qemu/ (--update rewrites it): the verdicts of
# each trace (under the catalogue's defaults and with DEC-013 taken the
# other way, as the suites judge mtty), and each trace's sequence of calls
# with runs of the same call counted once (how often QEMU polls in PRE_COPY
# depends on timing, not on the protocol). The traces themselves are kept
# there as recorded.
#
# Variables from guest.sh: repo, kernel, kver, kdir, busybox, build, vmlinuz,
# work, txroot, qemu_in_root, update, SUDO, and its helpers (timed, fail,
# ran, since, now, unmount_all).

qemu_want="$repo/reports/mtty/qemu"
qwork="$work/qemu"
rm -rf "$qwork" && mkdir -p "$qwork"

t0=$(now)
ws_built || fail "the recorder and vfio-mig did not build"
guest_qemu=$($SUDO chroot "$txroot" qemu-system-x86_64 --version | head -1)
echo "QEMU in the guest: $guest_qemu (trixie-backports, from the trixie root)"
timed "recorder and vfio-mig" "$t0"

# The initramfs: busybox, the VFIO and 9p modules, mtty, the recorder and
# the job the guest runs inside the trixie root.
t0=$(now)
init="$qwork/initramfs"
mkdir -p "$init"/{bin,dev,proc,sys,mod,lib,tx}
cp "$busybox" "$init/bin/busybox"
for m in vfio/vfio vfio/vfio_iommu_type1 vfio/mdev/mdev netfs/netfs 9p/9pnet 9p/9pnet_virtio 9p/9p; do
  src=$(find "$kdir/kernel" -path "*/$m.ko*" | head -1)
  [ -n "$src" ] || fail "module $m not found in the kernel package"
  case "$src" in *.xz) xz -dc "$src" > "$init/mod/$(basename "$m").ko" ;; *) cp "$src" "$init/mod/" ;; esac
done
cp "$build/mtty.ko" "$init/mod/"
cp "$RECORDER_SO" "$init/lib/libvfio_mig_recorder.so"
cat > "$init/job.sh" <<'JOB'
#!/bin/bash
# Runs inside the trixie root in the guest: QEMU migrates a paused VM with
# one mtty instance into a second QEMU with the other, both recorded.
set -u
src_dev=$1 dst_dev=$2
w=/run/vm
cd "$w" || exit 2
export VFIO_MIG_TRACE_DIR=$w/traces
rec=$w/lib/libvfio_mig_recorder.so
args=(-M q35 -m 32 -nodefaults -no-user-config -display none -S -accel tcg -qmp stdio)
dev() { echo "vfio-pci,sysfsdev=/sys/bus/mdev/devices/$1,enable-migration=on,x-device-dirty-page-tracking=off"; }
say() { echo "$(date +%s) $*"; }
# wait_for FILE PATTERN SECONDS
wait_for() {
  local end=$((SECONDS + $3))
  until grep -q "$2" "$1" 2>/dev/null; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 1
  done
}
mkfifo src.in dst.in
say "starting the destination QEMU"
LD_PRELOAD=$rec qemu-system-x86_64 "${args[@]}" -device "$(dev "$dst_dev")" -incoming "unix:$w/mig.sock" \
  < dst.in > dst.out 2> dst.err &
dpid=$!
exec 4> dst.in
say "starting the source QEMU"
LD_PRELOAD=$rec qemu-system-x86_64 "${args[@]}" -device "$(dev "$src_dev")" < src.in > src.out 2> src.err &
spid=$!
exec 3> src.in
ok=true
wait_for src.out '"QMP"' 300 && wait_for dst.out '"QMP"' 300 || { say "a QEMU did not start"; ok=false; }
if $ok; then
  echo '{"execute":"qmp_capabilities"}' >&3
  echo '{"execute":"qmp_capabilities"}' >&4
  for _ in $(seq 120); do [ -S "$w/mig.sock" ] && break; sleep 1; done
  say "QMP ready; migrating"
  echo "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"unix:$w/mig.sock\"}}" >&3
  ok=false
  for _ in $(seq 300); do
    sleep 1
    echo '{"execute":"query-migrate"}' >&3
    if grep -q '"status": "completed"' src.out; then ok=true; break; fi
    if grep -q '"status": "failed"' src.out; then break; fi
  done
  say "source migration: $($ok && echo completed || echo not completed)"
fi
if $ok; then
  ok=false
  for _ in $(seq 120); do
    echo '{"execute":"query-migrate"}' >&4
    sleep 1
    if grep -q '"status": "completed"' dst.out; then ok=true; break; fi
  done
  say "destination loaded: $ok"
  echo '{"execute":"cont"}' >&4
  for _ in $(seq 60); do
    echo '{"execute":"query-status"}' >&4
    sleep 1
    grep -q '"status": "running"' dst.out && break
  done
  grep -q '"status": "running"' dst.out || { say "the destination did not run"; ok=false; }
  say "destination running: $ok"
fi
echo '{"execute":"quit"}' >&3
echo '{"execute":"quit"}' >&4
exec 3>&- 4>&-
for _ in $(seq 60); do kill -0 $spid 2>/dev/null || kill -0 $dpid 2>/dev/null || break; sleep 1; done
kill -9 $spid $dpid 2>/dev/null
wait $spid; src_rc=$?
wait $dpid; dst_rc=$?
say "source QEMU exited $src_rc, destination QEMU exited $dst_rc"
$ok && [ $src_rc = 0 ] && [ $dst_rc = 0 ]
JOB
chmod +x "$init/job.sh"
cat > "$init/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in vfio vfio_iommu_type1 mdev mtty netfs 9pnet 9pnet_virtio 9p; do insmod /mod/$m.ko || echo "GUEST: insmod $m failed"; done
types=/sys/class/mdev_bus/mtty/mdev_supported_types
t=$(ls $types | grep -- '-2$' | head -1)
u1=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001; u2=83b8f4f2-509f-382f-3c1e-e6bfe0fa1002
for u in $u1 $u2; do echo $u > $types/$t/create || echo "GUEST: creating $u failed"; done
echo "GUEST: kernel $(uname -r)"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro tx /tx || echo "GUEST: the trixie root did not mount"
mount -t proc proc /tx/proc; mount -o bind /dev /tx/dev; mount -o bind /sys /tx/sys
mount -t tmpfs tmpfs /tx/run; mount -t tmpfs tmpfs /tx/tmp
mkdir -p /tx/run/vm/lib /tx/run/vm/traces
cp /job.sh /tx/run/vm/; cp /lib/libvfio_mig_recorder.so /tx/run/vm/lib/
start=$(date +%s)
chroot /tx /bin/bash /run/vm/job.sh $u1 $u2 > /job.log 2>&1
echo "GUEST: JOB $?"
echo "GUEST: job took $(( $(date +%s) - start )) s"
sed 's/^/GUEST: job: /' /job.log
for f in src.err dst.err; do sed "s/^/GUEST: $f: /" /tx/run/vm/$f; done
tar -c -C /tx/run/vm traces src.out dst.out src.err dst.err | gzip | base64 > /dev/ttyS1
echo "GUEST: RESULT DONE"
poweroff -f
INIT
chmod +x "$init/init"
if $qemu_in_root; then
  boot_dir="$txroot/var/tmp/vfio-mig-qemu-$kernel"; boot_seen="/var/tmp/vfio-mig-qemu-$kernel"; share=/
  qemu=("$SUDO" chroot "$txroot" qemu-system-x86_64)
  [ -n "$SUDO" ] || qemu=(chroot "$txroot" qemu-system-x86_64)
else
  boot_dir="$qwork/boot"; boot_seen="$boot_dir"; share="$txroot"
  qemu=(qemu-system-x86_64)
fi
$SUDO rm -rf "$boot_dir" && $SUDO mkdir -p "$boot_dir"
( cd "$init" && find . | cpio -o -H newc 2>/dev/null | gzip -1 ) | $SUDO tee "$boot_dir/initramfs.gz" >/dev/null
$SUDO cp "$vmlinuz" "$boot_dir/vmlinuz"
timed "initramfs" "$t0"

# One boot, under TCG (nested QEMU inside needs no KVM either), bounded.
t0=$(now)
data="$boot_dir/result.b64"
$SUDO rm -f "$data"
out=$(timeout "${VFIO_MIG_QEMU_JOB_TIMEOUT:-900}" "${qemu[@]}" -accel tcg -cpu max -m 2G -smp 2 -nographic -no-reboot \
  -kernel "$boot_seen/vmlinuz" -initrd "$boot_seen/initramfs.gz" \
  -virtfs "local,path=$share,mount_tag=tx,security_model=passthrough,readonly=on" \
  -serial mon:stdio -serial file:"$boot_seen/result.b64" \
  -append 'console=ttyS0 panic=-1 quiet' 2>&1) || true
echo "$out" | grep -a 'GUEST:' | sed 's/.*GUEST: \?//' | tr -d '\r' | grep -av '^RESULT' || echo "the guest printed nothing"
echo "guest boot to poweroff (tcg, QEMU inside): $(since "$t0") s"
timed "boot and QEMU migration (tcg)" "$t0"
echo "$out" | grep -aq 'GUEST: RESULT DONE' || { echo "$out" | tail -20; fail "the guest did not finish"; }
echo "$out" | grep -aq "GUEST: kernel $kver" || fail "the guest did not run kernel $kver"
got="$qwork/result"; mkdir -p "$got"
tr -d '\r' < "$data" | base64 -d | tar -xz -C "$got" || fail "the guest's result did not arrive intact"
echo "$out" | grep -aq 'GUEST: JOB 0' || fail "QEMU's migration inside the guest did not complete (see above)"

# Which trace is which: the source's reads its stream, the destination's
# enters RESUMING (4).
t0=$(now)
src_trace=""; dst_trace=""
for t in "$got"/traces/*.json; do
  [ -f "$t" ] || continue
  if grep -q '"op":"read"' "$t"; then src_trace=$t; fi
  if grep -q '"op":"set","state":4' "$t"; then dst_trace=$t; fi
done
[ -n "$src_trace" ] && [ -n "$dst_trace" ] && [ "$src_trace" != "$dst_trace" ] \
  || fail "expected one source and one destination trace, got: $(ls "$got/traces")"
vfio_mig="${CARGO_TARGET_DIR:-$TARGET}/debug/vfio-mig"
# A trace's calls, with consecutive repeats of a call or of a loop of up
# to four calls counted once: how often QEMU polls in PRE_COPY is timing.
shape() {
  grep -o '"op":"[a-z_]*"\(,"state":[0-9]\)\?' "$1" | sed 's/"op"://; s/,"state":/ /; s/"//g' \
    | awk -f "$(dirname "${BASH_SOURCE[0]}")/shape.awk"
}
mkdir -p "$qwork/now"
status=0; why=()
for side in source destination; do
  t=$src_trace; [ $side = source ] || t=$dst_trace
  cp "$t" "$qwork/now/$side.jsonl"
  # Judged under the catalogue's defaults, then with DEC-013 taken the
  # other way (a 0-byte read in PRE_COPY allowed), as the suites judge mtty.
  : > "$qwork/now/$side.check.txt"
  for decide in "" "--decide DEC-013=enomsg-or-zero"; do
    set +e
    # shellcheck disable=SC2086
    out=$("$vfio_mig" check-trace $decide "$t" 2>&1)
    rc=$?
    set -e
    echo "$side: vfio-mig check-trace ${decide:+$decide }: $out (exit code $rc)"
    # How many steps a trace has depends on how often QEMU polled in
    # PRE_COPY (timing), and so does whether it read pre-copy data to its
    # end, where mtty answers 0 instead of ENOMSG (a known deviation): a
    # verdict that breaks only mtty's known deviations and a clean one are
    # written alike, anything else as it is.
    rules=$(echo "$out" | grep -oE '\[V2-[^]]*\]' | head -1 | tr -d '[],' || true)
    known=true
    for r in $rules; do grep -q "requirement: $r\$" "$want_dir/deviations.yaml" || known=false; done
    if [ $rc = 0 ] || { [ -n "$rules" ] && $known; }; then
      out="$side.jsonl: no rule broken but mtty's known deviations"; rc=known
    fi
    { echo "\$ vfio-mig check-trace ${decide:+$decide }$side.jsonl"
      echo "${out//$t/$side.jsonl}" | sed -E 's/: [0-9]+ steps, every one allowed/: every step allowed/'
      echo "exit code $rc"; } >> "$qwork/now/$side.check.txt"
  done
  shape "$t" > "$qwork/now/$side.shape.txt"
  echo "$side trace ($(wc -l < "$t") lines): $(tr '\n' ' ' < "$qwork/now/$side.shape.txt")"
  sed 's/^/  check-trace: /' "$qwork/now/$side.check.txt"
done
{
  echo "QEMU: $guest_qemu"
  echo "guest kernel: $kver"
  echo "QEMU source: $(grep -c . "$got/src.err") lines on stderr, destination: $(grep -c . "$got/dst.err")"
} > "$qwork/now/versions.txt"
if $update; then
  mkdir -p "$qemu_want"
  for side in source destination; do
    cp "$qwork/now/$side.jsonl" "$qwork/now/$side.check.txt" "$qwork/now/$side.shape.txt" "$qemu_want/"
  done
  cp "$qwork/now/versions.txt" "$qemu_want/"
  echo "reports/mtty/qemu/ updated from the guest's run"
else
  for f in source.check.txt destination.check.txt source.shape.txt destination.shape.txt; do
    diff -u "$qemu_want/$f" "$qwork/now/$f" > "$qwork/$f.diff" || {
      echo "QEMU's migration differs from reports/mtty/qemu/$f:"; head -40 "$qwork/$f.diff"
      why+=("reports/mtty/qemu/$f differs"); status=1; }
  done
fi
timed "traces checked" "$t0"
timed total "$t_all"
printf 'time: %s\n' "${timings[@]}"
[ $status = 0 ] || fail "$(IFS=';'; echo "${why[*]}")"
ran
