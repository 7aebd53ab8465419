#!/usr/bin/env bash
# Destination rules: relative to WORKDIR, trailing slash, parents created, existing dir (no slash) vs new file name
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put a.txt 0644 $'a\n'
put dir/inner.txt 0644 inner
finish
