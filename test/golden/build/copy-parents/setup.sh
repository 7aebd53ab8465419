#!/usr/bin/env bash
# COPY --parents keeps the source's path below the context (docker 20.10 lacks it; from current BuildKit's documentation)
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put a/b/f.txt 0644 f
put a/c/x.txt 0644 x
put a/c/y.txt 0644 y
put parents-view/a/b/f.txt 0644 f
put parents-view/a/c/x.txt 0644 x
put parents-view/a/c/y.txt 0644 y
finish
