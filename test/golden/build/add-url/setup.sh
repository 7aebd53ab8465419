#!/usr/bin/env bash
# ADD of a URL: downloaded, never extracted, mode 0600, owner 0:0 unless --chown; name from the URL or the destination
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
mkdir -p "$EXTRA/http" "$EXTRA/p"
printf 'downloaded\n' >"$EXTRA/http/file.txt"
printf 'x\n' >"$EXTRA/p/x"
mktar "$EXTRA/http/payload.tar.gz" "$EXTRA/p"
rm -rf "$EXTRA/p"
finish
