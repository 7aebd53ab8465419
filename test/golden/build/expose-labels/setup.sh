#!/usr/bin/env bash
# EXPOSE ranges and protocols, LABELs replacing the base's and each other, an empty LABEL value
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
