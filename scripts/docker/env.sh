# Sourced by the scripts in scripts/docker/: where meshbot's private Docker engine lives.
# Everything is under one folder of meshbot's cache, so it never touches a system dockerd.
MESHBOT_CACHE="${MESHBOT_CACHE:-$HOME/.cache/meshbot}"
MESHBOT_DOCKER_DIR="${MESHBOT_DOCKER_DIR:-$MESHBOT_CACHE/docker}"
MESHBOT_DOCKER_SOCK="$MESHBOT_DOCKER_DIR/docker.sock"
export DOCKER_HOST="unix://$MESHBOT_DOCKER_SOCK"
docker_say() { printf '[docker] %s\n' "$*" >&2; }
