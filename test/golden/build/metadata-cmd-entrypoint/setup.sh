#!/usr/bin/env bash
# CMD and ENTRYPOINT in exec and shell form; ENTRYPOINT resets an inherited CMD; SHELL changes the shell form
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
finish
