#!/usr/bin/env bash
# ADD of local files and directories behaves as COPY; a file that only looks like an archive is copied, not extracted; ADD --chown
. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
put f.txt 0644 f
put dir/g.txt 0640 g
put fake.tar.gz 0644 'not really gzip'
finish
