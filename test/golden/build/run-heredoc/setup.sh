#!/usr/bin/env bash
# RUN with a heredoc (docker 20.10's built-in frontend lacks heredocs and the # syntax image is unreachable)
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
