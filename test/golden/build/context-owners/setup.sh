#!/usr/bin/env bash
# COPY of context files with other owners, setuid and private modes
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put owned/a.txt 0644 a
put owned/private.txt 0600 p
put owned/suid 4755 s
put owned/sgid 2711 g
putdir owned/sticky 1777
put owned/sticky/t 0444 t
# as root the files get other owners (COPY must give 0:0 anyway); as another user they stay its own
if [[ $(id -u) -eq 0 ]]; then chown -R 1234:5678 owned; chown 42:42 owned/private.txt; chmod 4755 owned/suid; chmod 2711 owned/sgid; fi
finish
