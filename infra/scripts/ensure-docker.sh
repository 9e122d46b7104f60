#!/usr/bin/env bash
# Ensure a Docker engine is installed (Debian's docker.io) and a daemon is running.
# Idempotent: installs only if missing, starts dockerd only if `docker info` fails.
set -euo pipefail

LOG=${DOCKERD_LOG:-/var/log/dockerd-collab.log}
WAIT_SECONDS=${DOCKERD_WAIT_SECONDS:-60}

log() { echo "[ensure-docker] $*" >&2; }

if [ "$(id -u)" != 0 ] && ! docker info >/dev/null 2>&1; then
  log "ERROR: must run as root (or have a reachable docker daemon)"; exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io from Debian apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io iptables ca-certificates >/dev/null
fi

if docker info >/dev/null 2>&1; then
  log "docker daemon already running"
  exit 0
fi

# A stale pid file from a dead daemon blocks a new start.
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  rm -f /var/run/docker.pid
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  log "starting dockerd (log: $LOG)"
  mkdir -p "$(dirname "$LOG")"
  # containerd is started by dockerd itself when not running as a service.
  # setsid: dockerd gets its own session, so ending the shell job that started it (a CI step, a terminal) does not
  # kill it. --live-restore: if dockerd restarts anyway, running containers survive instead of being stopped.
  setsid nohup dockerd --live-restore >>"$LOG" 2>&1 </dev/null &
  disown || true
fi

for ((i = 0; i < WAIT_SECONDS; i++)); do
  if docker info >/dev/null 2>&1; then
    log "docker daemon ready after ${i}s"
    exit 0
  fi
  sleep 1
done
log "ERROR: docker daemon not ready after ${WAIT_SECONDS}s; last lines of $LOG:"
tail -n 30 "$LOG" >&2 || true
exit 1
