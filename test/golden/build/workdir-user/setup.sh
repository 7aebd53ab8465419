#!/usr/bin/env bash
# WORKDIR under a non-root USER: owners and modes of the directories it makes, relative and variable paths
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
