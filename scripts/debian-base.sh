#!/usr/bin/env bash
# Usage: scripts/debian-base.sh
# Prints the path of a gzip tarball of a Debian bookworm root filesystem made
# with `debootstrap --variant=minbase` from the mirror this host's apt uses,
# ready to be imported as a base image: no apt lists, no .debs, an empty
# /etc/resolv.conf, no /etc/hostname, /etc/apt/sources.list naming that
# mirror, and the apt/dpkg settings Debian's own docker images carry
# (debuerreotype's minimizing config: dpkg without fsync, apt cleaning up
# after itself, no translations). The tarball is cached in ${TSBUILD_TEST_CACHE:-$HOME/.cache/tsbuild-test}
# (outside the checkout) and reused: the first run takes minutes, later runs
# print the cached path at once. FORCE=1 remakes it. Needs root (debootstrap)
# only when the tarball is not cached yet. Progress goes to stderr.
set -euo pipefail

CACHE="${TSBUILD_TEST_CACHE:-${HOME:-/root}/.cache/tsbuild-test}"
SUITE=bookworm
# The recipe's version is in the name: a changed recipe makes a new tarball instead of reusing an old one.
TARBALL="$CACHE/debian-$SUITE-minbase-v2.tar.gz"

say() { echo "debian-base: $*" >&2; }
fail() { say "$*"; exit 1; }

# shellcheck source=lib/apt-mirror.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-mirror.sh"

if [[ "${FORCE:-0}" != 1 && -s "$TARBALL" ]]; then
  echo "$TARBALL"
  exit 0
fi

[[ $(id -u) -eq 0 ]] || fail "making $TARBALL needs root (debootstrap); run as root once, later runs reuse it"
command -v debootstrap >/dev/null || fail "debootstrap is missing: run scripts/setup.sh (apt-get install debootstrap)"
MIRROR="${DEBIAN_MIRROR:-$(host_uri "$SUITE")}"
SECURITY="${DEBIAN_SECURITY_MIRROR:-$(host_uri "$SUITE-security")}"
[[ -n "$MIRROR" ]] || fail "no apt source for $SUITE in /etc/apt/sources.list*: set DEBIAN_MIRROR"

mkdir -p "$CACHE"
# One maker at a time; a second caller waits and then finds the tarball.
exec 9>"$CACHE/.debian-base.lock"
flock 9
if [[ "${FORCE:-0}" != 1 && -s "$TARBALL" ]]; then
  echo "$TARBALL"
  exit 0
fi

WORK="$(mktemp -d "$CACHE/make-XXXXXX")"
ROOTFS="$WORK/rootfs"
# unmount_below DIR unmounts whatever debootstrap left mounted inside DIR, deepest first.
unmount_below() {
  local m
  while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done < <(
    awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}
cleanup() {
  unmount_below "$WORK"
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

say "debootstrap --variant=minbase $SUITE from $MIRROR (minutes; cached afterwards in $CACHE)"
debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
  fail "debootstrap failed: $(tail -n 20 "$WORK/debootstrap.log")"
unmount_below "$ROOTFS"

# What a registry's debian image leaves out: package lists, downloaded debs,
# caches, logs, the run-time files the runtime provides.
rm -rf "${ROOTFS:?}"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/archives/*.deb \
  "$ROOTFS"/var/cache/apt/archives/partial/* "$ROOTFS"/var/cache/apt/*.bin \
  "${ROOTFS:?}"/dev/* "${ROOTFS:?}"/proc/* "${ROOTFS:?}"/sys/* "${ROOTFS:?}"/tmp/* \
  "$ROOTFS"/var/log/bootstrap.log "$ROOTFS"/var/cache/ldconfig/aux-cache "$ROOTFS"/etc/hostname
find "$ROOTFS/var/log" -type f -exec truncate -s 0 {} +
: >"$ROOTFS/etc/resolv.conf"
: >"$ROOTFS/etc/machine-id"
{
  echo "deb $MIRROR $SUITE main"
  echo "deb $MIRROR $SUITE-updates main"
  if [[ -n "$SECURITY" ]]; then echo "deb $SECURITY $SUITE-security main"; fi
} >"$ROOTFS/etc/apt/sources.list"
# debuerreotype-minimizing-config, as in Debian's docker images: dpkg skips fsync (a
# container layer is thrown away on failure anyway), apt deletes the .debs it installed
# and keeps no binary caches, no translations, gzipped indexes, suggests not kept.
echo force-unsafe-io >"$ROOTFS/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
cat >"$ROOTFS/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
echo 'Acquire::Languages "none";' >"$ROOTFS/etc/apt/apt.conf.d/docker-no-languages"
echo 'Acquire::GzipIndexes "true";' >"$ROOTFS/etc/apt/apt.conf.d/docker-gzip-indexes"
echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$ROOTFS/etc/apt/apt.conf.d/docker-autoremove-suggests"
# A host pinned to an old snapshot turns off the Release files' date checks: so must the image.
if grep -rqsE '^[^#]*Acquire::Check-(Valid-Until|Date)' /etc/apt/apt.conf.d/; then
  grep -rhsE '^[^#]*Acquire::Check-(Valid-Until|Date)' /etc/apt/apt.conf.d/ >"$ROOTFS/etc/apt/apt.conf.d/99tsbuild-test-mirror"
fi

tar --numeric-owner --xattrs --xattrs-include='security.capability' --sort=name \
  -C "$ROOTFS" -czf "$WORK/rootfs.tar.gz" .
mv "$WORK/rootfs.tar.gz" "$TARBALL"
say "made $TARBALL ($(du -h "$TARBALL" | cut -f1))"
echo "$TARBALL"
