#!/usr/bin/env bash
# Installs the tools the audio tests make their fixtures with, when missing: espeak-ng (speech),
# sox (resampling, WAV/FLAC), ffmpeg (MP3, M4A/AAC, Ogg/Vorbis, WebM) and opusenc (Ogg/Opus, as
# Element records voice messages). meshbot itself needs none of them: it decodes in WASM.
# Idempotent: a no-op when all are there. Needs root and apt.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/apt.sh"
missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v sox >/dev/null || missing+=(sox)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v opusenc >/dev/null || missing+=(opus-tools)
apt_install audio "${missing[@]}"
