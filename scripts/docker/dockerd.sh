#!/usr/bin/env bash
# meshbot's private Docker engine: `dockerd.sh start` (idempotent: a running one is reused),
# `dockerd.sh stop`, `dockerd.sh status`. Its socket, data, state and log are all under
# $MESHBOT_DOCKER_DIR (default ~/.cache/meshbot/docker). No bridge and no iptables rules:
# engine containers run with --network none, so the daemon needs no networking of its own.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
pidfile="$MESHBOT_DOCKER_DIR/dockerd.pid"
log="$MESHBOT_DOCKER_DIR/dockerd.log"

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
# The pid file outlives a reboot or a killed daemon, and its pid may be reused by any process:
# only a process started with this pid file is ours to reuse or kill.
running_pid() {
  local pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | grep -Fxq -- "$pidfile" && echo "$pid"
}

# One start or stop at a time: test runs share this dockerd, and a second start must not take
# the first one's daemon, still coming up, for a hung one and kill it.
lock() {
  mkdir -p "$MESHBOT_DOCKER_DIR"
  exec 9>"$MESHBOT_DOCKER_DIR/dockerd.lock"
  flock -w 60 9 || { docker_say "another dockerd.sh holds $MESHBOT_DOCKER_DIR/dockerd.lock"; exit 1; }
}

start() {
  lock
  if running_pid >/dev/null && answers; then exit 0; fi
  command -v dockerd >/dev/null || { docker_say "dockerd is not installed (scripts/docker/install.sh)"; exit 1; }
  local stale
  stale="$(running_pid || true)"
  if [ -n "$stale" ]; then
    docker_say "dockerd $stale does not answer; restarting it"
    kill "$stale" 2>/dev/null || true
    sleep 2
    kill -9 "$stale" 2>/dev/null || true
  fi
  mkdir -p "$MESHBOT_DOCKER_DIR/data" "$MESHBOT_DOCKER_DIR/exec"
  rm -f "$MESHBOT_DOCKER_SOCK" "$pidfile"
  # setsid: the daemon outlives the shell that started it (the test run stops it after).
  setsid dockerd \
    --data-root "$MESHBOT_DOCKER_DIR/data" \
    --exec-root "$MESHBOT_DOCKER_DIR/exec" \
    --pidfile "$pidfile" \
    --host "$DOCKER_HOST" \
    --iptables=false --ip6tables=false --ip-masq=false --bridge=none \
    --log-level warn \
    </dev/null >"$log" 2>&1 9>&- &
  for _ in $(seq 1 120); do
    if answers; then
      docker_say "dockerd $(running_pid || echo '?') up at $MESHBOT_DOCKER_SOCK"
      exit 0
    fi
    sleep 0.25
  done
  docker_say "dockerd did not come up in 30 s; its log ($log):"
  tail -n 20 "$log" >&2 || true
  exit 1
}

stop() {
  lock
  local pid
  pid="$(running_pid || true)"
  [ -z "$pid" ] && exit 0
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.25; done
  docker_say "dockerd $pid did not stop in 15 s; killing it"
  kill -9 "$pid" 2>/dev/null || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running_pid >/dev/null && answers; then echo "running $DOCKER_HOST"; else echo stopped; exit 3; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
