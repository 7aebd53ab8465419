#!/usr/bin/env bash
# RUNs that change nothing, or only a directory's mtime: which make a layer, which an empty one
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
