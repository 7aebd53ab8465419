#!/usr/bin/env bash
# A symlink named as a source is followed: a link to a file copies the file, a link to a dir copies its contents
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put real.txt 0640 real
link real.txt file-link
put realdir/a.txt 0644 a
link realdir dir-link
finish
