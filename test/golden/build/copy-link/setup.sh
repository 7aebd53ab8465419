#!/usr/bin/env bash
# COPY --link: an independent layer (docker 20.10 lacks --link; written from current BuildKit's documented behaviour)
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
put dir/g.txt 0644 g
finish
