#!/usr/bin/env node
// bench/parse.mjs — parses every real-world Dockerfile of the conformance corpus ROUNDS times (default
// 100) with tsbuild's parseDockerfile (AST + typed instructions) and prints files/s and MB/s, plus the
// AST-only parse for comparison. Each measurement runs TRIALS times (default 5) after a warm-up; the
// median and best trial are printed, because the machine is shared.
// Usage: pnpm build && node bench/parse.mjs   (env: ROUNDS=100, TRIALS=5, TSBUILD_CONFORMANCE=<dir>)
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseDockerfile } from "@tsbuild/builder";

const here = dirname(fileURLToPath(import.meta.url));
const corpus = [
  process.env.TSBUILD_CONFORMANCE,
  resolve(here, "../../shared/conformance"),
  "/work/shared/conformance",
]
  .filter(Boolean)
  .find((d) => existsSync(join(d, "real-world")));
if (!corpus) {
  console.error("conformance corpus not found: set TSBUILD_CONFORMANCE");
  process.exit(2);
}
const rounds = Number(process.env.ROUNDS ?? 100);
const trials = Number(process.env.TRIALS ?? 5);
const dir = join(corpus, "real-world");
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".Dockerfile"))
  .map((f) => ({ name: f, text: readFileSync(join(dir, f), "utf8") }));
const bytes = files.reduce((n, f) => n + Buffer.byteLength(f.text), 0);

function run(label, fn) {
  for (let w = 0; w < 5; w++) for (const f of files) fn(f.text, f.name); // warm-up; every file must parse
  const rates = [];
  let instructions = 0;
  for (let t = 0; t < trials; t++) {
    instructions = 0;
    const start = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) for (const f of files) instructions += fn(f.text, f.name);
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    rates.push(secs);
  }
  rates.sort((a, b) => a - b);
  const n = files.length * rounds;
  const fmt = (secs) =>
    `${Math.round(n / secs).toLocaleString("en-US")} files/s (${((bytes * rounds) / 1e6 / secs).toFixed(1)} MB/s, ` +
    `${Math.round(instructions / secs).toLocaleString("en-US")} instructions/s)`;
  console.log(
    `${label.padEnd(30)} median ${fmt(rates[Math.floor(rates.length / 2)])}; best ${fmt(rates[0])}`,
  );
}

console.log(
  `corpus: ${files.length} real-world Dockerfiles, ${(bytes / 1024).toFixed(1)} KiB, ${rounds} rounds x ${trials} trials (node ${process.version})`,
);
run("parseDockerfile (AST + typed)", (text, file) => parseDockerfile(text, { file }).instructions.length);
run("parse (AST only)", (text, file) => parse(text, { file }).children.length);
