#!/usr/bin/env bash
# COPY --from a named stage, a stage index and an image (the image's whiteouts applied)
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put src/main.txt 0644 main
put src/bin/tool 0755 $'#!/bin/sh\n'
link main.txt src/alias
put extra.txt 0600 extra
finish
