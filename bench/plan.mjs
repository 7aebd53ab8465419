#!/usr/bin/env node
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: words are Dockerfile `${}` syntax
// bench/plan.mjs — plans every real-world Dockerfile of the conformance corpus ROUNDS times (default 100)
// with tsbuild's planBuild (stages, ARG scoping, expansion, graph) and runs the `build --check` engine
// (checkDockerfile: parse + every lint rule), printing files/s; also the shell lexer alone (words/s)
// and the .dockerignore matcher (paths/s). Each measurement runs TRIALS times (default 5) after a
// warm-up; the median and best trial are printed, because the machine is shared.
// Usage: pnpm build && node bench/plan.mjs   (env: ROUNDS=100, TRIALS=5, TSBUILD_CONFORMANCE=<dir>)
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  checkDockerfile,
  envsFromSlice,
  PatternMatcher,
  parseDockerfile,
  planBuild,
  ShellLex,
} from "@tsbuild/builder";

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
const platform = { os: "linux", architecture: "amd64" };

function measure(label, unit, perRound, fn) {
  for (let w = 0; w < 3; w++) fn();
  const secs = [];
  for (let t = 0; t < trials; t++) {
    const start = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) fn();
    secs.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  secs.sort((a, b) => a - b);
  const rate = (s) => `${Math.round((perRound * rounds) / s).toLocaleString("en-US")} ${unit}/s`;
  console.log(`${label.padEnd(34)} median ${rate(secs[Math.floor(secs.length / 2)])}; best ${rate(secs[0])}`);
}

console.log(
  `corpus: ${files.length} real-world Dockerfiles, ${rounds} rounds x ${trials} trials (node ${process.version})`,
);
const parsed = files.map((f) => parseDockerfile(f.text, { file: f.name }));
measure("planBuild (default target)", "files", files.length, () => {
  for (const df of parsed) planBuild(df, { targetPlatform: platform, buildPlatform: platform });
});
measure("planBuild (all stages)", "files", files.length, () => {
  for (const df of parsed)
    planBuild(df, { targetPlatform: platform, buildPlatform: platform, allStages: true });
});
measure("checkDockerfile (parse + lint)", "files", files.length, () => {
  for (const f of files)
    checkDockerfile(f.text, { file: f.name, targetPlatform: platform, buildPlatform: platform });
});

const lex = new ShellLex();
const env = envsFromSlice([
  "GOPATH=/go",
  "PATH=/usr/local/bin:/usr/bin",
  "VERSION=1.27.0",
  "TARGETARCH=amd64",
]);
const words = [
  "$GOPATH/src/app",
  "golang:${VERSION}-alpine",
  '"${PATH}:/go/bin"',
  "app-${VERSION%.*}-${TARGETARCH:-amd64}.tar.gz",
  "${PATH//:/ }",
  "plain-word",
];
measure("ShellLex.processWord", "words", words.length * 100, () => {
  for (let i = 0; i < 100; i++) for (const w of words) lex.processWord(w, env);
});

const matcher = new PatternMatcher([
  "**/node_modules",
  "*.log",
  "!important.log",
  "build/",
  "**/*.py[co]",
  ".git",
]);
const paths = [
  "src/app/main.ts",
  "node_modules/x/index.js",
  "a/b/node_modules/y",
  "debug.log",
  "important.log",
  "build/out.bin",
  "pkg/mod.pyc",
  ".git/HEAD",
];
measure("PatternMatcher.matchesOrParentMatches", "paths", paths.length * 100, () => {
  for (let i = 0; i < 100; i++) for (const p of paths) matcher.matchesOrParentMatches(p);
});
