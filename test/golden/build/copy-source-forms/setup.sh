#!/usr/bin/env bash
# COPY source spellings: dir/., ./dir/, dir/*, ./file, mixed sources, a wildcard over files and directories
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put dir/a.txt 0644 a
put dir/sub/b.txt 0644 b
putdir dir/emptysub 0750
put top.txt 0640 t
put m1/x.txt 0644 x
put m2.txt 0644 m2
finish
