#!/usr/bin/env bash
# ENV and LABEL quoting and escapes, an empty value, a CMD that is not JSON, an exec-form ENTRYPOINT with escapes and non-ASCII
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
put dir/x.txt 0644 x
put dir/ls 0755 not-busybox
finish
