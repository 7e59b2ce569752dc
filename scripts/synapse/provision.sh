#!/usr/bin/env bash
# Builds a Debian sid chroot holding matrix-synapse, for tests and `meshbot dev`.
#
# Usage: scripts/synapse/provision.sh [CACHE_DIR]
#   CACHE_DIR defaults to ${MESHBOT_CACHE:-$HOME/.cache/meshbot}/synapse; the chroot is CACHE_DIR/root.
#
# Idempotent: a complete chroot (marker present, synapse importable) is a fast no-op. A half-built
# or broken one is deleted and rebuilt. Needs root (debootstrap, chroot) and Debian's mirror.
# Why a chroot: bookworm has no matrix-synapse package, sid does; no mounts are needed to run it.
set -euo pipefail

CACHE_DIR="${1:-${MESHBOT_CACHE:-$HOME/.cache/meshbot}/synapse}"
ROOT="$CACHE_DIR/root"
MARKER="$ROOT/.meshbot-complete"
MIRROR="${MESHBOT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE="${MESHBOT_DEBIAN_SUITE:-sid}"
# The sid index is frozen on the mirror this project reaches, so its Valid-Until date has passed.
APT_OPTS=(-o Acquire::Check-Valid-Until=false -o Acquire::Retries=3 -o Dpkg::Use-Pty=0)

log() { printf '[provision-synapse] %s\n' "$*" >&2; }
fail() { log "error: $*"; exit 1; }

synapse_works() {
  [ -f "$MARKER" ] && chroot "$ROOT" python3 -c 'import synapse' >/dev/null 2>&1
}

if [ -d "$ROOT" ] && synapse_works; then
  log "ready: $ROOT (synapse $(cat "$MARKER"))"
  exit 0
fi

[ "$(id -u)" = 0 ] || fail "must run as root (debootstrap and chroot need it)"

# Only one provisioning at a time per cache dir: a second caller waits, then sees the marker.
mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.provision.lock"
if ! flock -n 9; then
  log "another provisioning is running; waiting for it"
  flock 9
  if [ -d "$ROOT" ] && synapse_works; then
    log "ready: $ROOT (built by the other run)"
    exit 0
  fi
fi

start=$(date +%s)

if [ -e "$ROOT" ]; then
  log "removing incomplete or broken chroot $ROOT"
  # A bind mount left inside by someone else must not make us delete the host's files.
  if grep -q " $ROOT/" /proc/mounts; then fail "$ROOT has mounts inside; unmount them first"; fi
  rm -rf --one-file-system "$ROOT"
fi

BUILD_LOG="$CACHE_DIR/provision.log"
: >"$BUILD_LOG"

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" update >>"$BUILD_LOG" 2>&1 ||
    log "apt-get update failed; trying to install anyway"
  DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install -y debootstrap >>"$BUILD_LOG" 2>&1 ||
    fail "could not install debootstrap (log: $BUILD_LOG)"
fi

log "debootstrap $SUITE into $ROOT (1-2 min)"
if ! debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >>"$BUILD_LOG" 2>&1; then
  tail -n 20 "$BUILD_LOG" >&2
  fail "debootstrap failed (full log: $BUILD_LOG)"
fi

in_root() { chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }

log "installing matrix-synapse in the chroot"
{
  in_root apt-get "${APT_OPTS[@]}" update &&
    in_root apt-get "${APT_OPTS[@]}" install -y --no-install-recommends eatmydata &&
    in_root eatmydata apt-get "${APT_OPTS[@]}" install -y --no-install-recommends matrix-synapse &&
    in_root apt-get clean
} >>"$BUILD_LOG" 2>&1 || {
  tail -n 20 "$BUILD_LOG" >&2
  fail "apt-get in the chroot failed (full log: $BUILD_LOG)"
}

version=$(chroot "$ROOT" python3 -c 'import synapse; print(synapse.__version__)' 2>>"$BUILD_LOG") ||
  fail "synapse does not import in the chroot (full log: $BUILD_LOG)"
mkdir -p "$ROOT/var/lib/meshbot-hs"
echo "$version" >"$MARKER"
log "done in $(($(date +%s) - start)) s: synapse $version in $ROOT"
