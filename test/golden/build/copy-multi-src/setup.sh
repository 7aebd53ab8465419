#!/usr/bin/env bash
# COPY several sources (files and a directory) into one destination directory; again into the now existing dir named without a trailing slash
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put a.txt 0644 a
put b.txt 0644 b
put dir/c.txt 0644 c
put dir/sub/d.txt 0644 d
finish
