#!/usr/bin/env bash
# ADD --chown of a local archive: docker 20.10 keeps the archive's owners, current BuildKit applies --chown to the extracted entries
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
P="$EXTRA/payload"
mkdir -p "$P/sub"
printf 'a\n' >"$P/a.txt"; printf 'b\n' >"$P/sub/b.txt"; printf 'o\n' >"$P/owned.txt"
mktar payload.tar.gz "$P" owned.txt=1234:4321
rm -rf "$P"
finish
