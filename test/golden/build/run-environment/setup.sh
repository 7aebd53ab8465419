#!/usr/bin/env bash
# What a RUN sees: ENV referring to itself on one line, the environment, umask, cwd and hostname as root, as a named user and as a uid with no passwd entry; exec form; SHELL for a shell-form ENTRYPOINT
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
finish
