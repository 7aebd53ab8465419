#!/usr/bin/env bash
# ADD of an archive over existing directories: its ./ entry, directories the base has with other modes and owners, a file that replaces the base's
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
P="$EXTRA/over"
mkdir -p "$P/tmp" "$P/etc" "$P/srv/new" "$P/home/app"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$P/etc/passwd"; chmod 0600 "$P/etc/passwd"
printf 'n\n' >"$P/srv/new/n.txt"; chmod 0644 "$P/srv/new/n.txt"
printf 'h\n' >"$P/home/app/h.txt"; chmod 0640 "$P/home/app/h.txt"
chmod 0755 "$P/tmp"; chmod 0750 "$P/etc"; chmod 0755 "$P/srv" "$P/srv/new"; chmod 0700 "$P/home" "$P/home/app"; chmod 0700 "$P"
touch -h -d "@$EPOCH" "$P" "$P"/* "$P"/*/* "$P"/*/*/* 2>/dev/null || true
mktar over.tar "$P" home/app=1000:1000 home/app/h.txt=1000:1000
rm -rf "$P"
finish
