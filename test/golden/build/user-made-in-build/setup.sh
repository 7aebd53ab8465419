#!/usr/bin/env bash
# A user and group a RUN adds are resolved by later COPY --chown, WORKDIR and RUN in the same build
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
finish
