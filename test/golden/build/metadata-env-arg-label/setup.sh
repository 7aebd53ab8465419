#!/usr/bin/env bash
# ENV (both forms, quoting, substitution), ARG with default and --build-arg, LABEL, EXPOSE, STOPSIGNAL, MAINTAINER
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
