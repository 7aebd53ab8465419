#!/usr/bin/env bash
# COPY --from a stage whose files a RUN made with other owners and modes: what COPY keeps without and with --chown
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
