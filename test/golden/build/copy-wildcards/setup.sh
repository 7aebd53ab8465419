#!/usr/bin/env bash
# COPY with * ? and [] patterns, and a pattern matching directories (their contents are copied)
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put one.txt 0644 1
put two.txt 0644 2
put file1.log 0644 l1
put file2.log 0644 l2
put file10.log 0644 l10
put alpha.md 0644 a
put beta.md 0644 b
put gamma.md 0644 g
put sub1/x 0644 x
put sub2/y/z 0644 z
put subfile 0644 sf
finish
