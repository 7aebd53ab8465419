#!/usr/bin/env bash
# RUN replacing a directory of the base with a file
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
