#!/usr/bin/env bash
# Multi-stage with --target: stages after the target and unused stages are not built; ARG before FROM
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put unused.txt 0644 u
put deps.txt 0644 d
put app.txt 0644 a
put final.txt 0644 f
finish
