#!/usr/bin/env bash
# RUN --mount=type=cache: the cache dir is not in the layer; what is copied out of it is
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
