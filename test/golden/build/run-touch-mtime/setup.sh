#!/usr/bin/env bash
# RUN touching a base file: only its mtime changes
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
