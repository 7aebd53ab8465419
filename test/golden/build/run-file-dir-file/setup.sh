#!/usr/bin/env bash
# RUN turning a base file into a directory, then the next RUN back into a file
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
