#!/usr/bin/env bash
# startup.sh: what a tsbuild call costs before it does any work, against a bare `node -e 0`, with
# hyperfine: `image ls` on an empty store, `--version`, `build --help`, and `build --check` of a
# one-line Dockerfile (the build command's own modules: parser, planner, engine). Prints each
# command's mean and median and their ratio to node's. Needs `pnpm build` (bin/tsbuild runs the
# bundle it writes) and hyperfine (apt-get install hyperfine). RUNS (default 30) runs per command.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v hyperfine >/dev/null || { echo "bench/startup.sh: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[[ -f packages/cli/dist/bundle/tsbuild.js ]] || { echo "bench/startup.sh: run pnpm build first" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/store" "$work/context"
printf 'FROM scratch\n' >"$work/context/Dockerfile"
export TSBUILD_ROOT="$work/store"
tsbuild="$PWD/bin/tsbuild"

hyperfine --shell=none --warmup 3 --runs "${RUNS:-30}" --export-json "$work/result.json" \
  "node -e 0" \
  "$tsbuild image ls" \
  "$tsbuild --version" \
  "$tsbuild build --help" \
  "$tsbuild build --check $work/context" >/dev/null

node - "$work/result.json" <<'JS'
const { results } = JSON.parse(require("node:fs").readFileSync(process.argv[2], "utf8"));
const ms = (s) => `${(s * 1000).toFixed(0)} ms`.padStart(7);
const [node] = results;
const name = (r) => r.command.replace(/^\S*\/bin\/tsbuild/, "bin/tsbuild").replace(/ \S*\/context$/, " CONTEXT");
console.log(`${"command".padEnd(32)}   mean  median   ratio (mean, median) to node -e 0`);
for (const r of results) {
  const ratio = `${(r.mean / node.mean).toFixed(2)}×, ${(r.median / node.median).toFixed(2)}×`;
  console.log(`${name(r).padEnd(32)}${ms(r.mean)} ${ms(r.median)}   ${ratio}`);
}
JS
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
