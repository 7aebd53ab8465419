#!/usr/bin/env bash
# FROM a base with ONBUILD triggers: they run first (ENV, LABEL, COPY from this context, WORKDIR), then the child's steps
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put trigger.txt 0644 $'copied by the base\'s ONBUILD\n'
put own.txt 0644 own
finish
