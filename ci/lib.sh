# shellcheck shell=bash disable=SC2034
# Helpers shared by the CI scripts; sourced, never run.
#
# Stages. Each script runs one stage per kernel (uapi-drift-6.12,
# nextstate-7.3, guest-7.3, kernel-src-6.12, ...) and ends with one line:
#   stage <name>: ran
#   stage <name>: skipped (<reason>)
#   stage <name>: failed (<reason>)
# A stage that cannot get what it needs (a package, a download) skips with a
# one-line reason. Outside CI a skip exits 0. Under CI (CI=true) a skip exits
# 2 unless VFIO_MIG_ALLOW_SKIP allows it: a comma-separated list of stage
# names (guest-7.3), of stage families (guest: every kernel) or `all`.
# A failure exits 1.
#
# Packages. Bookworm's come through the machine's own apt configuration.
# Trixie's and trixie-backports' come through a private list under
# target/apt/trixie (the machine's sources are never changed); the mirror is
# the one the machine's apt uses (VFIO_MIG_DEBIAN_MIRROR overrides it).

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET="$REPO/target"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
STAGE=""
STAGE_DONE=false

# stage_begin NAME: names the stage and makes sure it ends with its line,
# also when a command fails under set -e.
stage_begin() {
  STAGE=$1
  STAGE_DONE=false
  trap 'stage_on_exit $? $LINENO' EXIT
}

stage_on_exit() {
  if ! $STAGE_DONE && [ -n "$STAGE" ]; then
    if [ "$1" = 0 ]; then
      echo "stage $STAGE: ran"
    else
      echo "stage $STAGE: failed (a command failed, exit code $1, near line $2 of $(basename "$0"))"
    fi
  fi
}

# skip_allowed NAME: whether a skip of stage NAME may exit 0.
skip_allowed() {
  [ "${CI:-}" = true ] || return 0
  local e
  local IFS=,
  for e in ${VFIO_MIG_ALLOW_SKIP:-}; do
    e=${e// /}
    case "$e" in "$1" | "${1%-*}" | all) return 0 ;; esac
  done
  return 1
}

# skip REASON: ends the stage as skipped.
skip() {
  echo "$STAGE skipped: $*"
  STAGE_DONE=true
  if skip_allowed "$STAGE"; then
    echo "stage $STAGE: skipped ($*)"
    exit 0
  fi
  echo "under CI a skip fails the run; VFIO_MIG_ALLOW_SKIP=$STAGE would allow this one"
  echo "stage $STAGE: skipped ($*)"
  exit 2
}

# fail REASON: ends the stage as failed.
fail() {
  echo "$STAGE failed: $*" >&2
  STAGE_DONE=true
  echo "stage $STAGE: failed ($*)"
  exit 1
}

# ran: ends the stage as run.
ran() {
  STAGE_DONE=true
  echo "stage $STAGE: ran"
  exit 0
}

# Builds. A stage builds what README's test command (`cargo test
# --workspace`) built, with the same feature set: a `-p` build unifies
# features differently and would compile dependencies a second time.
# ws_test ARGS...: `cargo test` over the workspace (`--test NAME` picks one
# test target of whichever package has it).
ws_test() { cargo test --workspace --locked "$@"; }

# ws_built: makes sure the workspace's test build is there (at once after
# the tests stage); its output is shown only when it fails.
ws_built() {
  [ -z "${WS_BUILT:-}" ] || return 0
  local log
  log=$(mktemp)
  if ! ws_test --no-run >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
  WS_BUILT=1
}

# vfio_mig ARGS...: the CLI as the workspace's test build made it.
vfio_mig() { ws_built && "${CARGO_TARGET_DIR:-$TARGET}/debug/vfio-mig" "$@"; }

# The recorder as the workspace's test build made it (the library its own
# tests preload).
RECORDER_SO="${CARGO_TARGET_DIR:-$TARGET}/debug/deps/libvfio_mig_recorder.so"

# Seconds since the epoch, with fractions, and a duration in seconds.
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# machine_apt_has PKG: whether the machine's apt knows PKG, updating its
# lists once when it does not.
machine_apt_has() {
  apt-cache show "$1" >/dev/null 2>&1 && return 0
  if [ -z "${MACHINE_APT_UPDATED:-}" ]; then
    MACHINE_APT_UPDATED=1
    $SUDO apt-get update -q >/dev/null 2>&1 || true
  fi
  apt-cache show "$1" >/dev/null 2>&1
}

# debian_mirror: the Debian archive the machine's apt uses for its own
# release (not the security archive).
debian_mirror() {
  if [ -n "${VFIO_MIG_DEBIAN_MIRROR:-}" ]; then echo "$VFIO_MIG_DEBIAN_MIRROR"; return 0; fi
  local codename f uri
  codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || codename=bookworm
  uri=$(
    {
      [ -f /etc/apt/sources.list ] && cat /etc/apt/sources.list
      for f in /etc/apt/sources.list.d/*.list; do [ -f "$f" ] && cat "$f"; done
    } | awk -v rel="$codename" '
      /^[[:space:]]*deb[[:space:]]/ {
        sub(/\[[^]]*\]/, ""); if ($3 == rel && $2 !~ /security/) { print $2; exit }
      }'
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      awk -v rel="$codename" '
        function flush() {
          if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " rel " ") && uris !~ /security/) {
            split(uris, u, " "); print u[1]; found = 1; exit
          }
          types = ""; suites = ""; uris = ""; enabled = ""
        }
        /^[[:space:]]*$/ { flush(); next }
        /^#/ { next }
        /^Types:/ { sub(/^Types:[[:space:]]*/, ""); types = $0 }
        /^URIs:/ { sub(/^URIs:[[:space:]]*/, ""); uris = $0 }
        /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
        /^Enabled:/ { sub(/^Enabled:[[:space:]]*/, ""); enabled = tolower($0) }
        END { if (!found) flush() }' "$f"
    done | head -1
  )
  [ -n "$uri" ] || return 1
  echo "${uri%/}"
}

# trixie_apt: apt-get/apt-cache options for the private trixie and
# trixie-backports list, set up and updated (at most every six hours) on
# first use. Sets TAPT (an array of options) or WHY and returns 1.
TAPT=()
trixie_apt() {
  [ ${#TAPT[@]} -gt 0 ] && return 0
  local dir="$TARGET/apt/trixie" mirror keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  mirror=$(debian_mirror) || { WHY="no Debian mirror found in the machine's apt configuration"; return 1; }
  [ -f "$keyring" ] || { WHY="$keyring is missing"; return 1; }
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$mirror" trixie "$keyring" "$mirror" trixie-backports \
    > "$dir/sources.list"
  local opts=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o Dir::Etc::sourceparts=-
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
    -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false -o APT::Sandbox::User=root)
  if [ -z "$(find "$dir/lists" -maxdepth 1 -name '*trixie-backports_main_binary-amd64_Packages*' -mmin -360 2>/dev/null)" ]; then
    apt-get -q --error-on=any "${opts[@]}" update > "$dir/update.log" 2>&1 || true
    if [ -z "$(find "$dir/lists" -maxdepth 1 -name '*trixie-backports_main_binary-amd64_Packages*' -mmin -360)" ]; then
      WHY="apt-get update of trixie and trixie-backports from $mirror failed: $(grep -E -A1 '^(E|W|Err):' "$dir/update.log" | head -2 | tr -s ' \n' ' ' | sed 's/ *$//')"
      return 1
    fi
  fi
  TAPT=("${opts[@]}")
}

# newest_pkg APT_CACHE_CMD... -- REGEX: the newest package name matching
# REGEX (sorted by version within the name).
newest_pkg() {
  local re=$1; shift
  "$@" search --names-only "$re" 2>/dev/null | awk '{print $1}' | sort -V | tail -1
}

# kernel_src VERSION: the kernel files the CI scripts read, from Debian's
# linux-source-VERSION, in target/kernel-src/VERSION/ (a tree with the
# kernel's layout; cached). Sets KSRC (the directory) and KSRC_PKG (the
# package and its exact version). Returns 1 (WHY set) when the package
# cannot be had, 2 when it came but the files could not be extracted.
# KSRC/installed/include/uapi holds linux/vfio.h and linux/stddef.h as
# `make headers_install` installs them, for compiling user programs: 7.3's
# vfio.h uses __counted_by, which only its own stddef.h defines for user
# space (bookworm's linux-libc-dev is 6.1), and 6.12's raw stddef.h cannot be
# used outside the kernel.
KERNEL_SRC_FILES=(include/uapi/linux/vfio.h drivers/vfio/vfio_main.c include/linux/vfio.h
  samples/vfio-mdev/mtty.c include/uapi/linux/stddef.h scripts/headers_install.sh)
kernel_src() {
  local ver=$1 dir="$TARGET/kernel-src/$1" pkg="linux-source-$1" f missing=false
  KSRC="$dir"; KSRC_PKG=""
  for f in "${KERNEL_SRC_FILES[@]}"; do [ -f "$dir/$f" ] || missing=true; done
  if ! $missing && [ -f "$dir/PACKAGE" ]; then
    KSRC_PKG=$(cat "$dir/PACKAGE")
    echo "kernel sources $ver: $KSRC_PKG (cached in ${dir#"$REPO"/})"
    return 0
  fi
  local dl="$TARGET/kernel-src/deb-$ver" t0
  t0=$(now)
  rm -rf "$dl" && mkdir -p "$dl"
  case "$ver" in
    6.12)
      machine_apt_has "$pkg" || { WHY="$pkg is not offered by the machine's apt sources"; return 1; }
      (cd "$dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg" > download.log 2>&1) \
        || { WHY="$pkg could not be downloaded: $(tail -1 "$dl/download.log")"; return 1; }
      ;;
    7.3)
      trixie_apt || return 1
      apt-cache "${TAPT[@]}" show "$pkg" >/dev/null 2>&1 || { WHY="$pkg is not offered by trixie-backports"; return 1; }
      (cd "$dl" && apt-get download -q "${TAPT[@]}" "$pkg" > download.log 2>&1) \
        || { WHY="$pkg could not be downloaded: $(tail -1 "$dl/download.log")"; return 1; }
      ;;
    *) WHY="no source package is known for kernel $ver (known: 6.12, 7.3)"; return 2 ;;
  esac
  local deb
  deb=$(ls "$dl"/"$pkg"_*.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || { WHY="$pkg: apt-get download left no .deb"; return 1; }
  KSRC_PKG="$pkg $(dpkg-deb -f "$deb" Version)"
  echo "kernel sources $ver: $KSRC_PKG downloaded in $(since "$t0") s"
  # Only the needed members, streamed out of the inner tarball (its xz has
  # many blocks: two threads halve the time); tar stops after the last one.
  t0=$(now)
  rm -rf "$dir" "$dl/x" && mkdir -p "$dl/x"
  local members=()
  for f in "${KERNEL_SRC_FILES[@]}"; do members+=("$pkg/$f"); done
  dpkg-deb --fsys-tarfile "$deb" 2>/dev/null | tar -xO "./usr/src/$pkg.tar.xz" 2>/dev/null \
    | xz -T2 -dc 2>/dev/null | tar -x -C "$dl/x" --occurrence=1 "${members[@]}" || true
  for f in "${KERNEL_SRC_FILES[@]}"; do
    [ -f "$dl/x/$pkg/$f" ] || { WHY="$f is not in $pkg's tarball"; return 2; }
  done
  mv "$dl/x/$pkg" "$dir"
  installed_uapi "$dir" || return 1
  echo "$KSRC_PKG" > "$dir/PACKAGE"
  rm -rf "$dl"
  echo "kernel sources $ver: ${KERNEL_SRC_FILES[*]} extracted in $(since "$t0") s into ${dir#"$REPO"/}"
}

# installed_uapi TREE: TREE/installed/include/uapi/linux/{vfio.h,stddef.h}
# as the kernel's own scripts/headers_install.sh installs them (it needs
# unifdef, from Debian's package). Sets WHY and returns 1 when it cannot.
installed_uapi() {
  local tree=$1 out="$1/installed/include/uapi/linux" h tmp
  if ! command -v unifdef >/dev/null 2>&1; then
    machine_apt_has unifdef && $SUDO apt-get install -y -q unifdef >/dev/null 2>&1 \
      || { WHY="unifdef (for the kernel's headers_install.sh) could not be installed"; return 1; }
  fi
  tmp=$(mktemp -d)
  mkdir -p "$out" "$tmp/scripts"
  ln -s "$(command -v unifdef)" "$tmp/scripts/unifdef"
  for h in vfio.h stddef.h; do
    (cd "$tmp" && sh "$tree/scripts/headers_install.sh" "$tree/include/uapi/linux/$h" "$out/$h") \
      || { WHY="the kernel's headers_install.sh failed on linux/$h"; rm -rf "$tmp"; return 1; }
  done
  rm -rf "$tmp"
}
