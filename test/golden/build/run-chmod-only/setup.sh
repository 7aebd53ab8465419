#!/usr/bin/env bash
# RUN changing only modes and owners of base files and dirs (metadata-only changes are full entries)
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
