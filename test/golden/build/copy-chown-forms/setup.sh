#!/usr/bin/env bash
# --chown spellings: a group alone, a user alone, mixed names and numbers, ARG values, root by name
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
finish
