#!/usr/bin/env bash
# COPY --chmod with a symbolic mode (u+x, go-w)
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0666 f
finish
