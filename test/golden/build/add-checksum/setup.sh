#!/usr/bin/env bash
# ADD --checksum verifies a URL download (docker 20.10 lacks it; from current BuildKit's documentation)
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
mkdir -p "$EXTRA/http"
printf 'downloaded\n' >"$EXTRA/http/file.txt"
finish
