#!/usr/bin/env bash
# .dockerignore: patterns, ** and ! exceptions decide what COPY . sees
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put .dockerignore 0644 $'# comment\n*.log\n!keep.log\nsecret/\n**/*.tmp\ndocs/*\n!docs/README.md\nDockerfile\n'
put app.txt 0644 app
put debug.log 0644 dbg
put keep.log 0644 keep
put secret/key 0600 key
put nested/deep/x.tmp 0644 t
put nested/deep/y.txt 0644 y
put docs/README.md 0644 readme
put docs/other.md 0644 other
put Dockerfile 0644 $'FROM scratch\n'
finish
