#!/usr/bin/env bash
# ARG scope: a global ARG used in FROM, redeclared in a stage to be used; ARG defaults vs --build-arg; ENV from ARG
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
