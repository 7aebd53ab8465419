#!/usr/bin/env bash
# RUN deleting files of the base: whiteouts for a file and a directory
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
