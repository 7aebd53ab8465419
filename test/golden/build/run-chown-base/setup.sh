#!/usr/bin/env bash
# RUN changing only owners and modes of base files and directories
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
