#!/usr/bin/env bash
# The automatic platform ARGs: declared in a stage, used without declaring, and as a global ARG in FROM's name
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
put dir/x.txt 0644 x
put dir/ls 0755 not-busybox
finish
