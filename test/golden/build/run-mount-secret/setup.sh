#!/usr/bin/env bash
# RUN --mount=type=secret: the secret is readable in the step and absent from the layer
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
printf 's3cr3t-value' >"$EXTRA/token"
finish
