#!/usr/bin/env bash
# The main job: set everything up, then run a local mesh (`meshbot dev`). Extra arguments go
# to `meshbot dev` (see `node bin/meshbot.js dev --help`).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec node "$MESHBOT_ROOT/bin/meshbot.js" dev "$@"
