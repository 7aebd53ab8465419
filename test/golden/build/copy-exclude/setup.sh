#!/usr/bin/env bash
# COPY --exclude leaves matching files out (docker 20.10 lacks it; from current BuildKit's documentation)
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put dir/a.txt 0644 a
put dir/b.log 0644 b
put dir/tmp/t 0644 t
put dir/sub/c.log 0644 c
put dir/sub/d.txt 0644 d
put dir-excluded/a.txt 0644 a
put dir-excluded/sub/d.txt 0644 d
finish
