#!/usr/bin/env bash
# COPY of odd names: spaces, non-ASCII, brackets, long names and paths, dangling and looping symlinks, empty entries
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put "with space.txt" 0644 s
put "ünïcødé-文件.txt" 0644 u
put "br[1].txt" 0644 b
put "odd/$(printf 'n%.0s' $(seq 1 120)).txt" 0644 long
put "odd/$(printf 'd%.0s' $(seq 1 60))/$(printf 'e%.0s' $(seq 1 60))/deep.txt" 0600 deep
link nowhere/at/all odd/dangling
link loop-b odd/loop-a
link loop-a odd/loop-b
put odd/empty.txt 0644 ""
putdir odd/empty-dir 0755
finish
