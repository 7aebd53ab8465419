#!/usr/bin/env bash
# COPY under base dirs with unusual modes and owners (/tmp 1777, /home/app 0750 1000:1000, /data 2775 1000:50, /srv 0711, /root 0700): how parent dirs appear in the layer
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
finish
