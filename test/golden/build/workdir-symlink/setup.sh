#!/usr/bin/env bash
# WORKDIR and COPY through a symlinked directory of the base, and a WORKDIR with .. in it
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
finish
