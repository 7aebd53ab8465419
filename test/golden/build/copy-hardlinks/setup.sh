#!/usr/bin/env bash
# Hardlinks inside a copied directory are kept as hardlinks in the layer
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put tree/a 0644 $'same inode\n'
hard tree/a tree/b
hard tree/a tree/sub/c
put tree/other 0644 other
finish
