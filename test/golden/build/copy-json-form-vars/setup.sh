#!/usr/bin/env bash
# COPY in JSON form (names with spaces) and with ARG/ENV substitution in sources, destination and --chown
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put 'name with space.txt' 0644 spaced
put plain.txt 0644 plain
finish
