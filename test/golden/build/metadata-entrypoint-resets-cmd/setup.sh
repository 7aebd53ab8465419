#!/usr/bin/env bash
# ENTRYPOINT in a child stage clears the CMD inherited from its base (golden/busybox's ["sh"])
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
