#!/usr/bin/env bash
# Builds meshbot's Docker images offline, with `docker import` from a root filesystem made of
# a static busybox (Debian's busybox-static): no registry is needed. Idempotent: an image
# whose recipe (its files and the busybox binary) has not changed is kept.
#   meshbot-test/busybox:1   a bare busybox, for the hostile-engine tests
#   <image of engines/<name>/manifest.json>   for each engines/<name>/image/Dockerfile
# The Dockerfile is the recipe for machines with a registry; here its ENTRYPOINT, CMD, USER
# and WORKDIR lines are applied to the imported root filesystem, and the folder's other files
# are copied to /app.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUSYBOX="${MESHBOT_BUSYBOX:-/bin/busybox}"
[ -x "$BUSYBOX" ] || { docker_say "no static busybox at $BUSYBOX (scripts/docker/install.sh)"; exit 1; }

# A root filesystem: busybox and its applets, users root/nobody/runner, /tmp, an empty /app.
make_rootfs() {
  local dir="$1"
  mkdir -p "$dir"/{bin,etc,tmp,app,meshbot/in,meshbot/out}
  cp "$BUSYBOX" "$dir/bin/busybox"
  for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\nrunner:x:1000:1000:runner:/app:/bin/sh\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\nrunner:x:1000:\n' >"$dir/etc/group"
  chmod 1777 "$dir/tmp"
}

# import <tag> <recipe-hash> <rootfs> [--change ...]
import_image() {
  local tag="$1" hash="$2" dir="$3"
  shift 3
  if [ "$(docker image inspect --format '{{index .Config.Labels "org.meshbot.recipe"}}' "$tag" 2>/dev/null || true)" = "$hash" ]; then
    return 0
  fi
  # Fixed owners and times: the layer is the same for the same files.
  tar -C "$dir" --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -c . \
    | docker import --change "LABEL org.meshbot.recipe=$hash" "$@" - "$tag" >/dev/null
  docker_say "built $tag ($(docker image inspect --format '{{.Id}}' "$tag"))"
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bb_hash="$(sha256sum "$BUSYBOX" | cut -c1-16)"

# The bare busybox image the tests build hostile engines on.
make_rootfs "$work/test"
import_image meshbot-test/busybox:1 "test-1-$bb_hash" "$work/test" --change 'USER 65534:65534'

for recipe in "$ROOT"/engines/*/image/Dockerfile; do
  [ -f "$recipe" ] || continue
  src="$(dirname "$recipe")"
  engine="$(dirname "$src")"
  tag="$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).image ?? "")' "$engine/manifest.json")"
  [ -n "$tag" ] || { docker_say "$engine/manifest.json has no image"; exit 1; }
  hash="$( (cd "$src" && find . -type f | LC_ALL=C sort | xargs sha256sum; echo "$bb_hash") | sha256sum | cut -c1-16)"
  dir="$work/$(basename "$engine")"
  make_rootfs "$dir"
  (cd "$src" && find . -type f ! -name Dockerfile -exec cp --parents {} "$dir/app/" \;)
  changes=()
  while IFS= read -r line; do changes+=(--change "$line"); done \
    < <(grep -E '^(ENTRYPOINT|CMD|USER|WORKDIR|ENV) ' "$recipe")
  import_image "$tag" "$hash" "$dir" "${changes[@]}"
done
