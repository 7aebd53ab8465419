#!/usr/bin/env bash
# RUN --mount=type=bind of the context and of a stage: read, never in the layer
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put a.txt 0644 a
put dir/b.txt 0644 b
finish
