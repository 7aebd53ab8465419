// bench/corpus.mjs — shared by parse.mjs and plan.mjs: the real-world Dockerfiles of the conformance
// corpus, the ROUNDS/TRIALS settings and a trial timer (median and best of TRIALS, the machine is shared).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const rounds = Number(process.env.ROUNDS ?? 100);
export const trials = Number(process.env.TRIALS ?? 5);

/** realWorldFiles reads `real-world/*.Dockerfile` of the corpus ($TSBUILD_CONFORMANCE or ../shared/conformance). */
export function realWorldFiles() {
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
  const dir = join(corpus, "real-world");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".Dockerfile"))
    .map((f) => ({ name: f, text: readFileSync(join(dir, f), "utf8") }));
}

/**
 * timeTrials runs `round` `warmups` times, then TRIALS times ROUNDS rounds, and returns the trial times in
 * seconds as { median, best }.
 */
export function timeTrials(round, warmups = 3) {
  for (let w = 0; w < warmups; w++) round();
  const secs = [];
  for (let t = 0; t < trials; t++) {
    const start = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) round();
    secs.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  secs.sort((a, b) => a - b);
  return { median: secs[Math.floor(secs.length / 2)], best: secs[0] };
}
