#!/usr/bin/env bash
# RUN renaming a base file and a base directory
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
