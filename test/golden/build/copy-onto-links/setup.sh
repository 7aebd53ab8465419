#!/usr/bin/env bash
# COPY onto paths that are symlinks in the base: an applet link to a file, a link to a directory without a trailing slash, a directory holding links
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
put dir/x.txt 0644 x
put dir/ls 0755 not-busybox
finish
