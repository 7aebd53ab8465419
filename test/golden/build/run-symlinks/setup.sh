#!/usr/bin/env bash
# RUN creating symlinks and replacing the base's /var/run symlink
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
