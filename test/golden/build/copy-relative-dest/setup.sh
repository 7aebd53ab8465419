#!/usr/bin/env bash
# COPY to destinations relative to WORKDIR and through ENV variables
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put a.txt 0644 a
put b.txt 0600 b
put dir/x.txt 0644 x
putdir dir/empty 0700
put dir/sub/y.txt 0755 y
finish
