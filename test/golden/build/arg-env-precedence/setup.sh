#!/usr/bin/env bash
# ARG against ENV of the same name, build args from the command line, an ARG declared twice, values in RUN's history
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
