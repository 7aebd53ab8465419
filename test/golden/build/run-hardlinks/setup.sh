#!/usr/bin/env bash
# RUN creating hardlinks: between new files, and to a base file (copied up)
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
