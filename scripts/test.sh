#!/usr/bin/env bash
# The README's test command: set up, then lint, typecheck and run every test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
# Tests never skip for a missing tool: fail loudly here instead.
for tool in runc docker-registry skopeo umoci newuidmap busybox; do
  command -v "$tool" >/dev/null 2>&1 || { echo "test: required tool '$tool' is missing" >&2; exit 1; }
done
[[ -d ../shared/conformance || -n "${TSBUILD_CONFORMANCE:-}" ]] || { echo "test: ../shared/conformance is missing (set TSBUILD_CONFORMANCE)" >&2; exit 1; }
pnpm lint
pnpm test
