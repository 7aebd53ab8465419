#!/usr/bin/env bash
# WORKDIR creates missing directories in a layer (absolute, nested, relative); an existing one (/tmp, /home/app); after USER app
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
