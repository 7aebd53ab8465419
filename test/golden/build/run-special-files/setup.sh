#!/usr/bin/env bash
# RUN creating a fifo, a device node, setuid/setgid/sticky modes and an empty dir
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
