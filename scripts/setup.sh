#!/usr/bin/env bash
# Installs everything tsbuild and its tests need, idempotently: Debian packages
# (with apt-get, only those missing), pnpm (from the npm registry), the
# workspace's packages, and builds the TypeScript.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DEBS=(curl runc docker-registry skopeo umoci uidmap busybox-static jq ca-certificates apache2-utils openssl attr fuse-overlayfs git debootstrap zsh slirp4netns)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's docker.io (20.10) for the docker interoperability tests and the benchmarks, without
# starting the system's daemon: they start their own (scripts/dockerd.sh).
if [[ ! -x /usr/sbin/dockerd || ! -x /usr/bin/docker ]]; then
  if [[ $(id -u) -eq 0 ]]; then bash scripts/dockerd.sh install; else sudo bash scripts/dockerd.sh install; fi
fi

# Rootless `tsbuild run -p` opens /dev/net/tun (slirp4netns): udev makes it 0666, a machine without udev
# may leave it 0600 (root only).
if [[ -c /dev/net/tun && "$(stat -c %a /dev/net/tun)" != 666 ]]; then
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "setup: making /dev/net/tun usable by every user (mode 0666, as udev does)" >&2
  $sudo chmod 0666 /dev/net/tun
fi

if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version)" != 9.* ]]; then
  echo "setup: installing pnpm 9 from the npm registry" >&2
  npm install -g pnpm@9.15.9 >/dev/null
fi

pnpm install --frozen-lockfile --reporter=silent
pnpm build
