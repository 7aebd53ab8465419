#!/usr/bin/env bash
# HEALTHCHECK NONE over an inherited check, and a shell-form check
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
