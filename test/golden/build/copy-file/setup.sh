#!/usr/bin/env bash
# COPY one file: to an absolute path, into a dir with a trailing slash, to a new name in new parents; modes kept, owner 0:0
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put hello.txt 0644 $'hello\n'
put run.sh 0755 $'#!/bin/sh\necho run\n'
put private.txt 0600 $'private\n'
finish
