#!/usr/bin/env bash
# Stages: config inherited through FROM stage, COPY --from with relative and wildcard sources, an unused failing stage
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put a.txt 0644 a
put b.txt 0644 b
finish
