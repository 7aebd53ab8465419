#!/usr/bin/env bash
# SHELL changes how RUN, CMD and ENTRYPOINT shell forms are written; HEALTHCHECK with every duration flag
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
