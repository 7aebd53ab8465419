#!/usr/bin/env node
// bench/parse.mjs — parses every real-world Dockerfile of the conformance corpus ROUNDS times (default
// 100) with tsbuild's parseDockerfile (AST + typed instructions) and prints files/s and MB/s, plus the
// AST-only parse for comparison. Each measurement runs TRIALS times (default 5) after a warm-up; the
// median and best trial are printed, because the machine is shared.
// Usage: pnpm build && node bench/parse.mjs   (env: ROUNDS=100, TRIALS=5, TSBUILD_CONFORMANCE=<dir>)
import { parse, parseDockerfile } from "@tsbuild/builder";
import { realWorldFiles, rounds, timeTrials, trials } from "./corpus.mjs";

const files = realWorldFiles();
const bytes = files.reduce((n, f) => n + Buffer.byteLength(f.text), 0);

function run(label, fn) {
  // warm-up (every file must parse) and the instruction count of one round
  let instructions = 0;
  for (const f of files) instructions += fn(f.text, f.name);
  const { median, best } = timeTrials(() => {
    for (const f of files) fn(f.text, f.name);
  }, 5);
  const n = files.length * rounds;
  const fmt = (secs) =>
    `${Math.round(n / secs).toLocaleString("en-US")} files/s (${((bytes * rounds) / 1e6 / secs).toFixed(1)} MB/s, ` +
    `${Math.round((instructions * rounds) / secs).toLocaleString("en-US")} instructions/s)`;
  console.log(`${label.padEnd(30)} median ${fmt(median)}; best ${fmt(best)}`);
}

console.log(
  `corpus: ${files.length} real-world Dockerfiles, ${(bytes / 1024).toFixed(1)} KiB, ${rounds} rounds x ${trials} trials (node ${process.version})`,
);
run("parseDockerfile (AST + typed)", (text, file) => parseDockerfile(text, { file }).instructions.length);
run("parse (AST only)", (text, file) => parse(text, { file }).children.length);
