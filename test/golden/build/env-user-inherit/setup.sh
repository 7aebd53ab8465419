#!/usr/bin/env bash
# ENV and LABEL override the base's; USER by number; ENTRYPOINT and CMD combined; COPY after USER stays root-owned
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
finish
