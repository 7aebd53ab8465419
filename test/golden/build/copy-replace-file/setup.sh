#!/usr/bin/env bash
# COPY of a file over an existing file (content, mode), a file over a base symlink, and a dir merged into an existing dir
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put passwd 0600 $'root:x:0:0:root:/root:/bin/sh\n'
put greet 0644 $'not executable any more\n'
put bin/new-tool 0755 $'#!/bin/sh\n'
put bin/tool.conf 0600 'level=2'
put cat 0755 $'#!/bin/sh\necho fake cat\n'
finish
