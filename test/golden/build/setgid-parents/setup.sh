#!/usr/bin/env bash
# Directories COPY, ADD and WORKDIR make under a setgid directory (/data 2775 1000:50)
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
put dir/x.txt 0644 x
putdir dir/sub 0700
put dir/sub/y.txt 0600 y
putdir src/inner 0750
put src/inner/t.txt 0644 t
mktar f.tar src
rm -rf src
finish
