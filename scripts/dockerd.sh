#!/usr/bin/env bash
# A private docker daemon for the tests and scripts that compare with docker itself:
#   scripts/dockerd.sh install               apt-get install Debian's docker.io (20.10) if missing,
#                                            without letting the package start the system's dockerd
#   scripts/dockerd.sh start DIR [FLAG...]   start dockerd with everything under DIR: data root, exec
#                                            root, pidfile, unix socket DIR/docker.sock, log
#                                            DIR/dockerd.log; no bridge, no iptables (containers run
#                                            with --network none or host). FLAGs go to dockerd (e.g.
#                                            --insecure-registry 127.0.0.1:PORT). Waits until it answers.
#   scripts/dockerd.sh stop DIR              stop that dockerd and the containerd it started, by the
#                                            PIDs recorded under DIR (never by name: other daemons
#                                            may run on this machine), and unmount what is left below DIR
# Clients talk to it with DOCKER_HOST=unix://DIR/docker.sock and the 20.10 CLI, /usr/bin/docker
# (a newer CLI without buildx on PATH fails with DOCKER_BUILDKIT=1). Needs root.
set -euo pipefail

log() { echo "dockerd.sh: $*" >&2; }
die() { log "$*"; exit 1; }

DOCKER=/usr/bin/docker
DOCKERD=/usr/sbin/dockerd

install_docker() {
  [[ -x $DOCKERD && -x $DOCKER ]] && return 0
  [[ $(id -u) -eq 0 ]] || die "installing docker.io needs root"
  log "installing docker.io (Debian) with apt-get"
  local policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    # keep the package from starting the system's dockerd: callers start their own
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy=1
  fi
  local rc=0
  { apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null; } || rc=$?
  ((policy)) && rm -f /usr/sbin/policy-rc.d
  ((rc == 0)) || die "apt-get install docker.io failed"
}

# ours PID DIR: true if PID is a live dockerd started with DIR's config
ours() {
  [[ -n "$1" && -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "--config-file $2/daemon.json"
}

start() {
  local dir="$1"; shift
  [[ $(id -u) -eq 0 ]] || die "dockerd needs root"
  install_docker
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd -P)"
  local sock="$dir/docker.sock"
  ((${#sock} < 100)) || die "socket path too long for a unix socket: $sock"
  if [[ -f "$dir/launcher.pid" ]] && ours "$(cat "$dir/launcher.pid")" "$dir"; then die "a dockerd already runs for $dir"; fi
  mkdir -p "$dir/data" "$dir/exec" "$dir/cli-config"
  cat >"$dir/daemon.json" <<EOF
{
  "data-root": "$dir/data",
  "exec-root": "$dir/exec",
  "pidfile": "$dir/dockerd.pid",
  "hosts": ["unix://$sock"],
  "bridge": "none",
  "iptables": false,
  "ip-masq": false,
  "ip-forward": false,
  "features": { "buildkit": true }
}
EOF
  setsid "$DOCKERD" --config-file "$dir/daemon.json" "$@" >"$dir/dockerd.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/launcher.pid"
  for _ in $(seq 1 300); do
    DOCKER_HOST="unix://$sock" DOCKER_CONFIG="$dir/cli-config" $DOCKER version >/dev/null 2>&1 && return 0
    ours "$pid" "$dir" || break
    sleep 0.2
  done
  tail -n 20 "$dir/dockerd.log" >&2
  stop "$dir"
  die "dockerd did not start (log: $dir/dockerd.log)"
}

stop() {
  local dir="$1"
  [[ -d "$dir" ]] || return 0
  dir="$(cd "$dir" && pwd -P)"
  local pid="" cpid=""
  [[ -f "$dir/launcher.pid" ]] && pid="$(cat "$dir/launcher.pid")"
  [[ -f "$dir/exec/containerd/containerd.pid" ]] && cpid="$(cat "$dir/exec/containerd/containerd.pid")"
  if ours "$pid" "$dir"; then
    kill -TERM "$pid"
    for _ in $(seq 1 150); do ours "$pid" "$dir" || break; sleep 0.2; done
    if ours "$pid" "$dir"; then log "dockerd $pid did not stop in 30s: killing it"; kill -KILL "$pid" || true; fi
  fi
  # dockerd stops the containerd it started; make sure, by its PID (its cmdline names our exec root)
  if [[ -n "$cpid" && -r "/proc/$cpid/cmdline" ]] && tr '\0' ' ' <"/proc/$cpid/cmdline" | grep -qF "$dir/"; then
    kill -TERM "$cpid" 2>/dev/null || true
    for _ in $(seq 1 25); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$cpid" 2>/dev/null || true
  fi
  rm -f "$dir/launcher.pid"
  local m
  while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done < <(
    awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}

case "${1:-}" in
  install) install_docker ;;
  start) [[ $# -ge 2 ]] || die "usage: $0 start DIR [DOCKERD-FLAG...]"; shift; start "$@" ;;
  stop) [[ $# -eq 2 ]] || die "usage: $0 stop DIR"; stop "$2" ;;
  *) die "usage: $0 install | start DIR [DOCKERD-FLAG...] | stop DIR" ;;
esac
