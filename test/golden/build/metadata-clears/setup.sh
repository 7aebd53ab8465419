#!/usr/bin/env bash
# Clearing what a parent stage set; a repeated LABEL key; ARG against ENV
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
