#!/usr/bin/env bash
# Installs Debian's Docker engine (docker.io: dockerd, containerd, runc) and a static busybox
# (the test images are made from it, offline), when missing. Idempotent; needs root and apt.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/apt.sh"
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
if ! { [ -x /bin/busybox ] && { ldd /bin/busybox 2>&1 || true; } | grep -q "not a dynamic"; }; then missing+=(busybox-static); fi
# The package's init script cannot start a daemon here (no init system), and meshbot wants
# its own private dockerd anyway (scripts/docker/dockerd.sh).
apt_install docker "${missing[@]}"
