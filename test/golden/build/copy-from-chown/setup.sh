#!/usr/bin/env bash
# COPY --from a stage with --chown by name (resolved in the target stage's /etc/passwd) and a wildcard source
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put src/a.txt 0644 a
put src/b.txt 0600 b
put src/c.bin 0755 c
put src/sub/d.txt 0644 d
finish
