#!/usr/bin/env bash
# WORKDIR then RUN: the RUN's cwd, and WORKDIR's own layer
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
