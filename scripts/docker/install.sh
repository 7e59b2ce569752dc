#!/usr/bin/env bash
# Installs Debian's Docker engine (docker.io: dockerd, containerd, runc) and a static busybox
# (the test images are made from it, offline), when missing. Idempotent; needs root and apt.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
if ! { [ -x /bin/busybox ] && { ldd /bin/busybox 2>&1 || true; } | grep -q "not a dynamic"; }; then missing+=(busybox-static); fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  docker_say "need ${missing[*]}: install them (as root on Debian/Ubuntu: apt-get install ${missing[*]})"
  exit 1
fi
docker_say "installing ${missing[*]}"
# The package's init script cannot start a daemon here (no init system), and meshbot wants
# its own private dockerd anyway (scripts/docker/dockerd.sh).
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || { apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
