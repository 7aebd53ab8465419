#!/usr/bin/env bash
# Usage: scripts/debian-source.sh POOL_PATH SHA256
# Prints the path of a file from the pool of the Debian bookworm mirror this
# host's apt uses (e.g. pool/main/n/nginx/nginx_1.22.1.orig.tar.gz), downloaded
# once into ${TSBUILD_TEST_CACHE:-$HOME/.cache/tsbuild-test} (outside the
# checkout) and checked against SHA256 (from the source package's .dsc).
# DEBIAN_MIRROR overrides the mirror. Progress goes to stderr.
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 POOL_PATH SHA256" >&2; exit 2; }
POOL_PATH="$1" SHA256="$2"
CACHE="${TSBUILD_TEST_CACHE:-${HOME:-/root}/.cache/tsbuild-test}"
FILE="$CACHE/$(basename "$POOL_PATH")"
# shellcheck source=lib/apt-mirror.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-mirror.sh"

verified() { [[ -s "$FILE" ]] && echo "$SHA256  $FILE" | sha256sum --check --status; }
if verified; then echo "$FILE"; exit 0; fi

MIRROR="${DEBIAN_MIRROR:-$(host_uri bookworm)}"
[[ -n "$MIRROR" ]] || { echo "debian-source: no apt source for bookworm in /etc/apt/sources.list*: set DEBIAN_MIRROR" >&2; exit 1; }
mkdir -p "$CACHE"
TMP="$(mktemp "$FILE.XXXXXX")"
trap 'rm -f "$TMP"' EXIT
echo "debian-source: downloading ${MIRROR%/}/$POOL_PATH" >&2
curl -fsSL --retry 3 -o "$TMP" "${MIRROR%/}/$POOL_PATH"
echo "$SHA256  $TMP" | sha256sum --check --status || {
  echo "debian-source: ${MIRROR%/}/$POOL_PATH does not have sha256 $SHA256" >&2
  exit 1
}
chmod 644 "$TMP"
mv "$TMP" "$FILE"
echo "$FILE"
