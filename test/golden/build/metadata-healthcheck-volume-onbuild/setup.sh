#!/usr/bin/env bash
# HEALTHCHECK with every option, VOLUME (JSON and plain), ONBUILD triggers recorded, USER user:group
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
