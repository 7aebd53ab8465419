#!/usr/bin/env bash
# ARG values expanded in LABEL, EXPOSE, WORKDIR, USER, STOPSIGNAL, ENV, VOLUME and COPY, with a global ARG redeclared
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
finish
