#!/usr/bin/env bash
# COPY to a path under a symlinked directory of the base (/var/run -> /run)
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
put dir/inner 0644 i
finish
