#!/usr/bin/env bash
# VOLUME then RUN writing under the volume's path: what BuildKit keeps
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
finish
