#!/usr/bin/env bash
# RUN changes that hide: new bytes with the old size and mtime, a touch to the same time, a move away and back
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
