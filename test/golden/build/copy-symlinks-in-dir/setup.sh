#!/usr/bin/env bash
# Symlinks inside a copied directory stay symlinks: relative, absolute, dangling, to a directory
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put tree/real.txt 0644 real
putdir tree/realdir 0755
put tree/realdir/in.txt 0644 in
link real.txt tree/rel-link
link /etc/passwd tree/abs-link
link does-not-exist tree/dangling
link realdir tree/dir-link
link ../real.txt tree/realdir/up-link
finish
