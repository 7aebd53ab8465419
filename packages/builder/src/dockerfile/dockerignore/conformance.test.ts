import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readConformanceJson } from "../../testing/conformance.js";
import { selectBuildContext } from "./context.js";
import { parseIgnoreFile } from "./ignorefile.js";
import { legacyMatches, PatternMatcher } from "./matcher.js";

// moby/patternmatcher and BuildKit .dockerignore cases from the shared corpus
// (dockerignore.json), read at run time and checked as its README describes.

interface Presence {
  present: string[];
  absent: string[];
}

interface Case {
  id: string;
  kind: string;
  patterns?: string[];
  path?: string;
  pattern?: string;
  input?: string;
  dockerfile?: string;
  dockerignore?: string;
  contextFiles?: string[];
  ignoreFiles?: Record<string, string>;
  expected: Record<string, unknown>;
}

const cases = readConformanceJson<Case[]>("dockerignore.json");
let passed = 0;

afterAll(() => {
  console.log(`dockerignore conformance: ${passed}/${cases.length} cases`);
});

function makeContext(files: string[], contents: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-ignore-"));
  for (const f of files) writeFileSync(join(dir, f), contents[f] ?? `${f}-data`);
  return dir;
}

async function included(dir: string, dockerfile?: string): Promise<Set<string>> {
  const options = dockerfile === undefined ? { contextDir: dir } : { contextDir: dir, dockerfile };
  const selection = await selectBuildContext(options);
  return new Set(selection.entries.map((e) => e.path));
}

function expectPresence(paths: Set<string>, p: Presence): void {
  for (const f of p.present) expect(paths.has(f), `${f} present`).toBe(true);
  for (const f of p.absent) expect(paths.has(f), `${f} absent`).toBe(false);
}

async function check(c: Case): Promise<void> {
  const e = c.expected;
  switch (c.kind) {
    case "pattern-match": {
      if ("matchError" in e) {
        const pm = new PatternMatcher(c.patterns!);
        for (let i = 0; i < 2; i++)
          expect(() => pm.matchesOrParentMatches(c.path!)).toThrow(String(e.matchError));
        return;
      }
      const pm = new PatternMatcher(c.patterns!);
      expect(pm.matchesOrParentMatches(c.path!)).toBe(e.match);
      // The walk-friendly form must agree when it has no parent information.
      expect(pm.matchesUsingParentResults(c.path!).matched).toBe(e.match);
      return;
    }
    case "legacy-matches":
      if (typeof e.error === "string") {
        expect(() => legacyMatches(c.path!, c.patterns!)).toThrow(e.error);
      } else {
        expect(legacyMatches(c.path!, c.patterns!)).toBe(e.match);
      }
      return;
    case "new-matcher": {
      if (typeof e.error === "string") {
        expect(() => new PatternMatcher(c.patterns!)).toThrow(e.error);
        return;
      }
      const pm = new PatternMatcher(c.patterns!);
      if (e.patternCount !== undefined) expect(pm.patterns.length).toBe(e.patternCount);
      if (e.exclusions !== undefined) expect(pm.exclusions).toBe(e.exclusions);
      return;
    }
    case "read-ignore-file":
      expect(parseIgnoreFile(c.input!)).toEqual(e.patterns);
      return;
    case "compile-informative": {
      // Informative upstream; the classification carries over (the regexp source is Go's, ours is JS).
      const pm = new PatternMatcher([c.pattern!]);
      expect(pm.patterns[0]!.matchType).toBe(e.matchType);
      if (e.matchType === "exact") expect(pm.matchesOrParentMatches(c.pattern!)).toBe(true);
      return;
    }
    case "build-context": {
      const dir = makeContext(c.contextFiles!, {
        Dockerfile: c.dockerfile!,
        ".dockerignore": c.dockerignore!,
      });
      try {
        if (e.buildError) {
          await expect(included(dir)).rejects.toThrow();
        } else {
          expectPresence(await included(dir), e as unknown as Presence);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      return;
    }
    case "build-context-override": {
      const dir = makeContext(c.contextFiles!, c.ignoreFiles!);
      try {
        for (const [key, presence] of Object.entries(e)) {
          const dockerfile = key.replace(/^whenDockerfile=/, "");
          expectPresence(await included(dir, dockerfile), presence as Presence);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      return;
    }
    default:
      throw new Error(`unknown case kind ${c.kind}`);
  }
}

describe("dockerignore conformance", () => {
  it("has the 169 cases", () => {
    expect(cases.length).toBe(169);
  });
  it.each(cases)("$id", async (c) => {
    await check(c);
    passed++;
  });
});
