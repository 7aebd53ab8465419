#!/usr/bin/env bash
# RUN on a base whose layers hold whiteouts and an opaque dir: delete, recreate, rewrite
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
