#!/usr/bin/env bash
# RUN rm -rf dir && mkdir dir: an opaque directory over the base's contents
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
