#!/usr/bin/env bash
# startup.sh: what a tsbuild call costs before it does any work, against a bare `node -e 0`, with
# hyperfine: `image ls` on an empty store, `--version`, `build --help`, and `build --check` of a
# one-line Dockerfile (the build command's own modules: parser, planner, engine). Prints each
# command's median and minimum and their ratio to node's. The machine is shared, so the commands are
# interleaved: ROUNDS (default 8) hyperfine runs of RUNS (default 5) calls each, medians over all.
# Needs `pnpm build` (bin/tsbuild runs the bundle it writes) and hyperfine (apt-get install hyperfine).
# TSBUILD=path/to/bin/tsbuild measures another checkout's CLI (e.g. an older commit's, for a before).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v hyperfine >/dev/null || { echo "bench/startup.sh: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[[ -n "${TSBUILD:-}" || -f packages/cli/dist/bundle/tsbuild.js ]] || { echo "bench/startup.sh: run pnpm build first" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/store" "$work/context"
printf 'FROM scratch\n' >"$work/context/Dockerfile"
export TSBUILD_ROOT="$work/store"
tsbuild="${TSBUILD:-$PWD/bin/tsbuild}"

for round in $(seq "${ROUNDS:-8}"); do
  hyperfine --shell=none --warmup 1 --runs "${RUNS:-5}" --export-json "$work/round-$round.json" \
    "node -e 0" \
    "$tsbuild image ls" \
    "$tsbuild --version" \
    "$tsbuild build --help" \
    "$tsbuild build --check $work/context" >/dev/null 2>"$work/hyperfine.err" ||
    { cat "$work/hyperfine.err" >&2; exit 1; } # (its warnings about outliers on a shared machine are expected)
done

node - "$work" <<'JS'
const fs = require("node:fs");
const dir = process.argv[2];
const times = new Map();
for (const f of fs.readdirSync(dir).filter((f) => f.startsWith("round-"))) {
  for (const r of JSON.parse(fs.readFileSync(`${dir}/${f}`, "utf8")).results) {
    times.set(r.command, [...(times.get(r.command) ?? []), ...r.times]);
  }
}
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (s) => `${(s * 1000).toFixed(0)} ms`.padStart(7);
const rows = [...times].map(([command, t]) => ({ command, median: median(t), min: Math.min(...t), n: t.length }));
const [node] = rows;
const name = (c) => c.replace(/^\S*\/bin\/tsbuild/, "bin/tsbuild").replace(/ \S*\/context$/, " CONTEXT");
console.log(`${"command".padEnd(34)} median     min   ratio to node -e 0 (median, min)`);
for (const r of rows) {
  const ratio = `${(r.median / node.median).toFixed(2)}×, ${(r.min / node.min).toFixed(2)}×`;
  console.log(`${name(r.command).padEnd(34)}${ms(r.median)} ${ms(r.min)}   ${ratio}   (${r.n} runs)`);
}
JS
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
