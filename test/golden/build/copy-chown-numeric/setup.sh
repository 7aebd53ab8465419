#!/usr/bin/env bash
# COPY --chown with numeric ids: uid:gid, uid only, ids not in /etc/passwd
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
put dir/g.txt 0644 g
finish
