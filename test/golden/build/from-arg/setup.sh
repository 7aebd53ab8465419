#!/usr/bin/env bash
# ARG before FROM: the base named by a variable, redeclared inside the stage, a stage built on a stage, COPY --from an image and an index
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
