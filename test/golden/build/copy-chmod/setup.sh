#!/usr/bin/env bash
# COPY --chmod octal on files and on a directory (its top entry and contents)
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
putdir dir 0755
put dir/a 0644 a
putdir dir/sub 0755
put dir/sub/b 0600 b
finish
