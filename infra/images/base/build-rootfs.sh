#!/usr/bin/env bash
# Builds the base root filesystem tarball with debootstrap + chroot apt.
# Usage: build-rootfs.sh OUT_TAR
# Reads DEBIAN_SUITE, DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR, BASE_PACKAGES from the environment.
set -euo pipefail
OUT=$1
CACHE=${COLLAB_INFRA_CACHE:-/var/cache/collab-infra}
log() { echo "[base] $*" >&2; }

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

mkdir -p "$CACHE"
LOG="$CACHE/build-rootfs.log"
: >"$LOG"
# Run a step with its output in $LOG; show the log's tail if it fails.
quiet() {
  if ! "$@" >>"$LOG" 2>&1; then
    tail -n 40 "$LOG" >&2
    log "ERROR: '$1' failed (full log: $LOG)"
    exit 1
  fi
}
ROOT=$(mktemp -d "$CACHE/rootfs.XXXXXX")
cleanup() {
  umount "$ROOT/proc" 2>/dev/null || true
  umount "$ROOT/dev/pts" 2>/dev/null || true
  rm -rf --one-file-system "$ROOT"
}
trap cleanup EXIT

# The plain minbase tarball is cached too, so a changed package list does not re-download it.
MINBASE_TAR="$CACHE/debootstrap-${DEBIAN_SUITE}-minbase.tgz"
if [ ! -s "$MINBASE_TAR" ]; then
  log "debootstrap --make-tarball ($DEBIAN_SUITE)"
  TMPROOT=$(mktemp -d "$CACHE/mk.XXXXXX")
  quiet debootstrap --variant=minbase --make-tarball="$MINBASE_TAR.tmp" "$DEBIAN_SUITE" "$TMPROOT" "$DEBIAN_MIRROR"
  rm -rf --one-file-system "$TMPROOT"
  mv "$MINBASE_TAR.tmp" "$MINBASE_TAR"
fi
log "debootstrap --variant=minbase $DEBIAN_SUITE (from cached tarball)"
quiet debootstrap --variant=minbase --unpack-tarball="$MINBASE_TAR" "$DEBIAN_SUITE" "$ROOT" "$DEBIAN_MIRROR"

cat >"$ROOT/etc/apt/sources.list" <<SRC
deb $DEBIAN_MIRROR $DEBIAN_SUITE main
deb $DEBIAN_MIRROR $DEBIAN_SUITE-updates main
deb $DEBIAN_SECURITY_MIRROR $DEBIAN_SUITE-security main
SRC
# No service may start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod +x "$ROOT/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
mount -t proc proc "$ROOT/proc"

log "apt-get install $BASE_PACKAGES"
# shellcheck disable=SC2086
quiet chroot "$ROOT" /bin/bash -c "set -e
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p /usr/share/man/man1
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $BASE_PACKAGES >/dev/null
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/* /var/log/*.log
"
umount "$ROOT/proc"
rm -f "$ROOT/usr/sbin/policy-rc.d"
: >"$ROOT/etc/resolv.conf"
echo "collab-base" >"$ROOT/etc/hostname"

log "writing $OUT"
tar --numeric-owner -C "$ROOT" -cf "$OUT.tmp" .
mv "$OUT.tmp" "$OUT"
