// biome-ignore-all lint/suspicious/noTemplateCurlyInString: snippets are Dockerfile `${}` syntax
import { describe, expect, it } from "vitest";
import { checkDockerfile } from "../dockerfile/lint/check.js";
import { isBuildError } from "../errors.js";
import { listConformance, readConformanceText } from "../testing/conformance.js";
import { mulberry32, pick } from "../testing/prng.js";
import { planBuild } from "./plan.js";

const SNIPPETS = [
  "$",
  "${",
  "}",
  "${X:-",
  "${X#*}",
  "\\\n",
  "\n",
  " AS x",
  "--from=0 ",
  "--from=x ",
  "--platform=$BUILDPLATFORM ",
  "FROM x AS x\n",
  "COPY --from=x / /\n",
  "ARG X=1\n",
  "ENV A $X\n",
  "ONBUILD COPY --from=0 / /\n",
  "WORKDIR rel\n",
  "EXPOSE $X\n",
  "VOLUME $NOPE\n",
  "STOPSIGNAL $X\n",
  '"',
  "'",
  "=",
];

function mutate(text: string, next: () => number): string {
  let s = text;
  const edits = 1 + Math.floor(next() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(next() * (s.length + 1));
    const r = next();
    if (r < 0.4) s = s.slice(0, at) + pick(next, SNIPPETS) + s.slice(at);
    else if (r < 0.7) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(next() * 8));
    else {
      const lines = s.split("\n");
      const a = Math.floor(next() * lines.length);
      const b = Math.floor(next() * lines.length);
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      s = lines.join("\n");
    }
  }
  return s;
}

describe("planning mutated real-world Dockerfiles", () => {
  it("fails only with the builder's own typed errors", () => {
    const files = listConformance("real-world", ".Dockerfile").map((f) =>
      readConformanceText("real-world", f),
    );
    const next = mulberry32(7);
    let planned = 0;
    let rejected = 0;
    for (let i = 0; i < 400; i++) {
      const src = mutate(files[i % files.length]!, next);
      try {
        planBuild(src, { allStages: i % 2 === 0, buildArgs: { X: "1" } });
        planned++;
      } catch (err) {
        if (!isBuildError(err)) throw new Error(`unexpected ${String(err)} for:\n${src}`);
        rejected++;
      }
      // The check never throws: problems come back in the result.
      const result = checkDockerfile(src);
      expect(result.error === undefined || isBuildError(result.error)).toBe(true);
    }
    expect(planned + rejected).toBe(400);
    expect(planned).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });
});
