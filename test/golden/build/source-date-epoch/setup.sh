#!/usr/bin/env bash
# SOURCE_DATE_EPOCH as a build arg: no visible change except timestamps (which are not compared)
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
finish
