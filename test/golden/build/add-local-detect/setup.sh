#!/usr/bin/env bash
# ADD decides by content, not name: archives extracted whatever their name, compressed plain files copied
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
mkdir -p "$EXTRA/p/inner"
printf 'in\n' >"$EXTRA/p/inner/in.txt"
mktar archive.bin "$EXTRA/p"
mktar gz-archive.data "$EXTRA/p"
mv gz-archive.data gz-archive.tmp && gzip -n -9 <gz-archive.tmp >gz-archive.data && rm gz-archive.tmp
printf 'plain text\n' | gzip -n -9 >plain.txt.gz
printf 'plain text\n' | xz -6 >plain.txt.xz
mkdir -p holder && cp archive.bin holder/inside.tar
rm -rf "$EXTRA/p"
finish
