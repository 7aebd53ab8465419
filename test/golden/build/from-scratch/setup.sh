#!/usr/bin/env bash
# FROM scratch: COPY creates every parent; metadata on an empty config
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0755 f
put dir/etc/conf 0644 conf
finish
