#!/usr/bin/env node
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: words are Dockerfile `${}` syntax
// bench/plan.mjs — plans every real-world Dockerfile of the conformance corpus ROUNDS times (default 100)
// with tsbuild's planBuild (stages, ARG scoping, expansion, graph) and runs the `build --check` engine
// (checkDockerfile: parse + every lint rule), printing files/s; also the shell lexer alone (words/s)
// and the .dockerignore matcher (paths/s). Each measurement runs TRIALS times (default 5) after a
// warm-up; the median and best trial are printed, because the machine is shared.
// Usage: pnpm build && node bench/plan.mjs   (env: ROUNDS=100, TRIALS=5, TSBUILD_CONFORMANCE=<dir>)
import {
  checkDockerfile,
  envsFromSlice,
  PatternMatcher,
  parseDockerfile,
  planBuild,
  ShellLex,
} from "@tsbuild/builder";
import { realWorldFiles, rounds, timeTrials, trials } from "./corpus.mjs";

const files = realWorldFiles();
const platform = { os: "linux", architecture: "amd64" };

function measure(label, unit, perRound, fn) {
  const { median, best } = timeTrials(fn);
  const rate = (s) => `${Math.round((perRound * rounds) / s).toLocaleString("en-US")} ${unit}/s`;
  console.log(`${label.padEnd(34)} median ${rate(median)}; best ${rate(best)}`);
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
