#!/usr/bin/env bash
# .dockerignore: a directory excluded with a file inside re-included, a leading /, */ patterns, an exception undone by a later pattern
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put .dockerignore 0644 $'/build
!build/keep.txt
*/cache
logs
!logs/important.log
logs/important.log
.git
'
put build/out.o 0644 o
put build/keep.txt 0644 keep
put a/cache/x 0644 x
put a/kept.txt 0644 k
put cache/top 0644 t
put logs/app.log 0644 l
put logs/important.log 0644 i
put .git/HEAD 0644 $'ref: refs/heads/main
'
put src/main.txt 0644 m
finish
