#!/usr/bin/env bash
# ADD of local tar archives extracts them: gzip, bzip2, xz and plain; owners, symlinks, hardlinks and setuid from the archive kept
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
P="$EXTRA/payload"
mkdir -p "$P/dir/sub" "$P/empty"
printf 'one\n' >"$P/dir/one.txt"; chmod 0644 "$P/dir/one.txt"
printf 'two\n' >"$P/dir/sub/two.txt"; chmod 0600 "$P/dir/sub/two.txt"
printf '#!/bin/sh\n' >"$P/dir/suid"; chmod 4755 "$P/dir/suid"
ln -s one.txt "$P/dir/link"
ln "$P/dir/one.txt" "$P/dir/hard"
printf 'app\n' >"$P/owned.txt"; chmod 0644 "$P/owned.txt"
chmod 0700 "$P/dir/sub"; chmod 0755 "$P/dir" "$P/empty"
touch -h -d "@$EPOCH" "$P"/* "$P"/*/* "$P"/*/*/* 2>/dev/null || true
for f in payload.tar.gz payload.tar.bz2 payload.tar.xz payload.tar payload.tgz; do mktar "$f" "$P" owned.txt=1000:50; done
rm -rf "$P"
finish
