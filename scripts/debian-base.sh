#!/usr/bin/env bash
# Usage: scripts/debian-base.sh
# Prints the path of a gzip tarball of a Debian bookworm root filesystem made
# with `debootstrap --variant=minbase` from the mirror this host's apt uses,
# ready to be imported as a base image: no apt lists, no .debs, an empty
# /etc/resolv.conf, no /etc/hostname, and /etc/apt/sources.list naming that
# mirror. The tarball is cached in ${TSBUILD_TEST_CACHE:-$HOME/.cache/tsbuild-test}
# (outside the checkout) and reused: the first run takes minutes, later runs
# print the cached path at once. FORCE=1 remakes it. Needs root (debootstrap)
# only when the tarball is not cached yet. Progress goes to stderr.
set -euo pipefail

CACHE="${TSBUILD_TEST_CACHE:-${HOME:-/root}/.cache/tsbuild-test}"
SUITE=bookworm
TARBALL="$CACHE/debian-$SUITE-minbase.tar.gz"

say() { echo "debian-base: $*" >&2; }
fail() { say "$*"; exit 1; }

# sources_files lists the host's apt source files, one-line and deb822 ones.
sources_files() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] && echo "$f"
  done
  return 0
}

# host_uri SUITE prints the first URI whose source lists SUITE exactly
# (`deb [opts] URI SUITE ...` lines and `URIs:`/`Suites:` stanzas).
host_uri() {
  local want="$1" f line uri suites
  while read -r f; do
    if [[ "$f" == *.sources ]]; then
      uri="" suites=""
      # A blank line ends a stanza; the extra echo ends the last one.
      while IFS= read -r line; do
        line="${line%%#*}"
        case "$line" in
        URIs:*) read -r _ uri _ <<<"$line" ;;
        Suites:*) suites=" ${line#Suites:} " ;;
        *[![:space:]]*) ;;
        *)
          if [[ -n "$uri" && "$suites" =~ [[:space:]]$want[[:space:]] ]]; then echo "$uri"; return 0; fi
          uri="" suites="" ;;
        esac
      done < <(cat "$f"; echo)
    else
      while read -r -a words; do
        [[ "${words[0]:-}" == deb ]] || continue
        local i=1
        if [[ "${words[1]:-}" == \[* ]]; then
          while [[ "${words[i]}" != *\] ]]; do i=$((i + 1)); done
          i=$((i + 1))
        fi
        if [[ "${words[i + 1]:-}" == "$want" ]]; then echo "${words[i]}"; return 0; fi
      done < <(sed 's/#.*//' "$f")
    fi
  done < <(sources_files)
  return 0
}

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
# A host pinned to an old snapshot turns off the Release files' date checks: so must the image.
if grep -rqsE '^[^#]*Acquire::Check-(Valid-Until|Date)' /etc/apt/apt.conf.d/; then
  grep -rhsE '^[^#]*Acquire::Check-(Valid-Until|Date)' /etc/apt/apt.conf.d/ >"$ROOTFS/etc/apt/apt.conf.d/99tsbuild-test-mirror"
fi

tar --numeric-owner --xattrs --xattrs-include='security.capability' --sort=name \
  -C "$ROOTFS" -czf "$WORK/rootfs.tar.gz" .
mv "$WORK/rootfs.tar.gz" "$TARBALL"
say "made $TARBALL ($(du -h "$TARBALL" | cut -f1))"
echo "$TARBALL"
