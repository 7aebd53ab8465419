import { afterAll, describe, expect, it } from "vitest";
import { DockerfileError } from "../../errors.js";
import {
  type ConformanceCase,
  listConformance,
  readConformanceBytes,
  readConformanceJson,
} from "../../testing/conformance.js";
import {
  chompHeredocContent,
  detectSyntax,
  dump,
  findDirective,
  heredocsFromLine,
  parse,
  parseDirectives,
  parseHeredocWord,
  parseJSONArray,
  parseNameVal,
  parseWords,
} from "./index.js";

const counts = new Map<string, { passed: number; total: number }>();
function tally(suite: string, ok: boolean): void {
  const c = counts.get(suite) ?? { passed: 0, total: 0 };
  c.total++;
  if (ok) c.passed++;
  counts.set(suite, c);
}
function check(suite: string, fn: () => void): void {
  try {
    fn();
    tally(suite, true);
  } catch (e) {
    tally(suite, false);
    throw e;
  }
}
afterAll(() => {
  for (const [suite, c] of counts) console.log(`${suite} conformance: ${c.passed}/${c.total}`);
});

const parserCases = listConformance("parser");
const negativeCases = listConformance("parser-negative");
const realWorld = listConformance("real-world", ".Dockerfile");

describe("parser golden cases (TestParseCases)", () => {
  it("finds the corpus", () => {
    expect(parserCases.length).toBe(33);
    expect(negativeCases.length).toBe(4);
    expect(realWorld.length).toBe(34);
  });
  it.each(parserCases)("%s", (name) => {
    check("parser", () => {
      const ast = parse(readConformanceBytes("parser", name, "Dockerfile"), { file: `${name}/Dockerfile` });
      const expected = readConformanceBytes("parser", name, "result").toString("utf8");
      expect(`${dump(ast)}\n`).toBe(expected);
    });
  });
});

describe("parser negative cases (TestParseErrorCases)", () => {
  it.each(negativeCases)("%s", (name) => {
    check("parser-negative", () => {
      expect(() => parse(readConformanceBytes("parser-negative", name, "Dockerfile"))).toThrow(
        DockerfileError,
      );
    });
  });
});

describe("real-world Dockerfiles parse", () => {
  it.each(realWorld)("%s", (name) => {
    check("real-world", () => {
      const ast = parse(readConformanceBytes("real-world", name), { file: name });
      expect(ast.children.length).toBeGreaterThan(0);
      for (const c of ast.children) expect(c.endLine).toBeGreaterThanOrEqual(c.startLine);
    });
  });
});

type Case = ConformanceCase & { input: unknown; expected: Record<string, unknown> };

describe("parser-units.json", () => {
  const cases = readConformanceJson<Case[]>("parser-units.json");
  it("has 34 cases", () => expect(cases.length).toBe(34));
  it.each(cases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    check("parser-units", () => runUnit(c));
  });
});

function runUnit(c: Case): void {
  switch (c.kind) {
    case "parse-words":
      expect(parseWords(c.input as string, c.escapeToken as string)).toEqual(c.expected);
      return;
    case "parse-json-array":
      if ("error" in c.expected)
        expect(() => parseJSONArray(c.input as string)).toThrow(c.expected.error as string);
      else expect(parseJSONArray(c.input as string)).toEqual(c.expected.values);
      return;
    case "parse-name-val":
      if ("error" in c.expected) {
        expect(() => parseNameVal(c.input as string, c.instruction as string, "\\")).toThrow(
          c.expected.error as string,
        );
      } else expect(parseNameVal(c.input as string, c.instruction as string, "\\")).toEqual(c.expected.nodes);
      return;
    case "parse-line-numbers": {
      const ast = parse(c.input as string);
      const root = c.expected.root as { startLine: number; endLine: number };
      expect(ast.children[0]?.startLine).toBe(root.startLine);
      expect(ast.children.at(-1)?.endLine).toBe(root.endLine);
      expect(ast.children.map((n) => [n.startLine, n.endLine])).toEqual(c.expected.children);
      return;
    }
    case "parse-warnings": {
      const ast = parse(c.input as string);
      const want = c.expected.warnings as { shortContains: string[]; detailContains?: string }[];
      expect(ast.warnings.length).toBe(c.expected.warningCount);
      want.forEach((w, i) => {
        for (const s of w.shortContains) expect(ast.warnings[i]?.short).toContain(s);
        if (w.detailContains) expect(ast.warnings[i]?.detail).toContain(w.detailContains);
      });
      return;
    }
    case "parse-error": {
      const t = c.input as {
        template: string;
        placeholder: string;
        replaceWith: { repeat: string; count: number };
      };
      const text = t.template.replace(t.placeholder, t.replaceWith.repeat.repeat(t.replaceWith.count));
      expect(() => parse(text)).toThrow(c.expected.error as string);
      return;
    }
    case "parse-error-file": {
      const bytes = readConformanceBytes(...(c.input as { file: string }).file.split("/"));
      expect(() => parse(bytes)).toThrow(c.expected.messageFromCode as string);
      return;
    }
    default:
      throw new Error(`unknown case kind ${c.kind}`);
  }
}

describe("directives.json", () => {
  const cases = readConformanceJson<Case[]>("directives.json");
  it("has 17 cases", () => expect(cases.length).toBe(17));
  it.each(cases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    check("directives", () => {
      if (c.kind === "directive-parser-parse-all") {
        const got = parseDirectives(c.input as string).map((d) => ({ name: d.name, value: d.value }));
        expect(got).toEqual(c.expected.directives);
        return;
      }
      const found =
        c.kind === "detect-syntax"
          ? detectSyntax(c.input as string)
          : findDirective(c.key as string, c.input as string);
      const e = c.expected as { ok: boolean; ref?: string; cmdline?: string; line?: number };
      expect(found !== undefined).toBe(e.ok);
      if (e.ref !== undefined) expect(found?.ref ?? "").toBe(e.ref);
      if (e.cmdline !== undefined) expect(found?.cmdline ?? "").toBe(e.cmdline);
      if (e.line !== undefined) expect(found?.line).toBe(e.line);
    });
  });
});

describe("heredocs.json", () => {
  const cases = readConformanceJson<Case[]>("heredocs.json");
  it("has 33 cases", () => expect(cases.length).toBe(33));
  it.each(cases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    check("heredocs", () => runHeredoc(c));
  });
});

function runHeredoc(c: Case): void {
  switch (c.kind) {
    case "parse-document": {
      const ast = parse(c.input as string);
      if (c.expected.instructionCount !== undefined)
        expect(ast.children.length).toBe(c.expected.instructionCount);
      for (const child of c.expected.children as { index: number; heredocs: unknown }[]) {
        if (!Array.isArray(child.heredocs)) continue;
        expect(ast.children[child.index]?.heredocs).toEqual(child.heredocs);
      }
      return;
    }
    case "chomp-content":
      expect(chompHeredocContent(c.input as string)).toBe(c.expected);
      return;
    case "parse-heredoc-word": {
      const e = c.expected as { heredoc?: boolean; name?: string; error?: boolean };
      if (e.error) expect(() => parseHeredocWord(c.input as string)).toThrow(DockerfileError);
      else if (e.heredoc) expect(parseHeredocWord(c.input as string)?.name).toBe(e.name);
      else expect(parseHeredocWord(c.input as string)).toBeUndefined();
      return;
    }
    case "heredocs-from-line": {
      const names = heredocsFromLine(c.input as string).map((h) => h.name);
      const actual = (c.actualByCodeReading as { names: string[] } | undefined)?.names;
      expect(names).toEqual(actual ?? (c.expected.names as string[]));
      return;
    }
    default:
      throw new Error(`unknown case kind ${c.kind}`);
  }
}
