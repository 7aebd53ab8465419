#!/usr/bin/env bash
# COPY --chown by names from the image's /etc/passwd and /etc/group: user:group and user only
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
put dir/g.txt 0600 g
put dir/sub/h.txt 0644 h
finish
