#!/usr/bin/env bash
# COPY a directory copies its contents (not the dir itself): nested dirs, an empty dir, dir and file modes kept
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
putdir tree 0755
put tree/top.txt 0644 top
put tree/exec 0755 $'#!/bin/sh\n'
putdir tree/nested 0700
put tree/nested/secret 0600 s
putdir tree/nested/deeper 0750
put tree/nested/deeper/leaf.txt 0640 leaf
putdir tree/empty 0755
putdir tree/sticky 1777
put tree/setuid 4755 x
put tree/setgid 2755 y
finish
