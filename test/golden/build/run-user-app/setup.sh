#!/usr/bin/env bash
# USER app: files a RUN creates are owned by 1000:1000 (app's primary group)
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
