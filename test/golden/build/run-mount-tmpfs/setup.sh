#!/usr/bin/env bash
# RUN --mount=type=tmpfs: nothing written there lands in the layer
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
