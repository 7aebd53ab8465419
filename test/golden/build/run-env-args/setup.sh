#!/usr/bin/env bash
# RUN sees ARG and ENV; history records the build args used by each RUN
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
