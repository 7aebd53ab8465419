#!/usr/bin/env bash
# The README's test command: set up, then lint, typecheck and run every test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
# Tests never skip for a missing tool: fail loudly here instead.
for tool in runc docker-registry skopeo umoci newuidmap newgidmap busybox getfattr setfattr htpasswd openssl fuse-overlayfs debootstrap curl slirp4netns script; do
  command -v "$tool" >/dev/null 2>&1 || { echo "test: required tool '$tool' is missing" >&2; exit 1; }
done
# docker itself, for test/e2e/docker-interop.test.ts: Debian's 20.10 daemon and CLI (not a newer docker on PATH)
[[ -x /usr/sbin/dockerd && -x /usr/bin/docker ]] || { echo "test: docker.io (/usr/sbin/dockerd, /usr/bin/docker) is missing" >&2; exit 1; }
# The conformance corpus is read at run time from ../shared/conformance (or $TSBUILD_CONFORMANCE).
if [[ -z "${TSBUILD_CONFORMANCE:-}" ]]; then
  for c in ../shared/conformance /work/shared/conformance; do
    [[ -d "$c" ]] && { TSBUILD_CONFORMANCE="$(cd "$c" && pwd)"; break; }
  done
fi
[[ -d "${TSBUILD_CONFORMANCE:-}" ]] || { echo "test: conformance corpus not found: put it at ../shared/conformance or set TSBUILD_CONFORMANCE" >&2; exit 1; }
export TSBUILD_CONFORMANCE
pnpm lint
pnpm typecheck   # tests and sources together (pnpm build covers sources only)
pnpm run docs   # API docs (typedoc, docs/api; any warning fails). `run`: a bare `pnpm docs` is pnpm's own command
pnpm test
pnpm test:e2e   # examples/ and docker interoperability (slow; caches outside the repo)
