#!/usr/bin/env bash
# Fetches the kernel files the CI scripts read, from Debian's
# linux-source-VERSION package, into target/kernel-src/VERSION/ (a tree with
# the kernel's layout, cached; --refresh fetches again):
#   include/uapi/linux/vfio.h, drivers/vfio/vfio_main.c,
#   include/linux/vfio.h, samples/vfio-mdev/mtty.c
# and prints the exact package version used (also kept in PACKAGE there).
# 6.12 comes from bookworm(-security) through the machine's apt sources,
# 7.3 from trixie-backports through a private list (see ci/lib.sh).
# Usage: ci/kernel-src.sh [--refresh] 6.12|7.3
# Stage: kernel-src-VERSION (skips when the package cannot be had).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
refresh=false
[ "${1:-}" = --refresh ] && { refresh=true; shift; }
ver=${1:?usage: ci/kernel-src.sh [--refresh] 6.12|7.3}
stage_begin "kernel-src-$ver"
$refresh && rm -rf "$TARGET/kernel-src/$ver"
rc=0; kernel_src "$ver" || rc=$?
case $rc in
  0) ;;
  1) skip "$WHY" ;;
  *) fail "$WHY" ;;
esac
echo "package: $KSRC_PKG"
echo "directory: $KSRC"
ran
