#!/usr/bin/env bash
# Installs the tools the audio tests make their fixtures with, when missing: espeak-ng (speech),
# sox (resampling, WAV/FLAC), ffmpeg (MP3, M4A/AAC, Ogg/Vorbis, WebM) and opusenc (Ogg/Opus, as
# Element records voice messages). meshbot itself needs none of them: it decodes in WASM.
# Idempotent: a no-op when all are there. Needs root and apt.
set -euo pipefail
say() { printf '[audio] %s\n' "$*" >&2; }
missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v sox >/dev/null || missing+=(sox)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v opusenc >/dev/null || missing+=(opus-tools)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  say "the audio tests need ${missing[*]}: install them (as root on Debian/Ubuntu: apt-get install ${missing[*]})"
  exit 1
fi
say "installing ${missing[*]}"
# A fresh machine may have no package lists yet: update once, only if the first try fails.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || { apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
