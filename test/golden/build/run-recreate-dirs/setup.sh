#!/usr/bin/env bash
# RUN removing and recreating directories of lower layers, and a directory made and removed in one RUN
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
