import { afterAll, describe, expect, it } from "vitest";
import { readConformanceJson, readConformanceText } from "../../testing/conformance.js";
import { envsFromMap, envsFromSlice } from "./env.js";
import { ShellLex } from "./lex.js";

// BuildKit's shell-lexer corpus, read at run time from the shared conformance
// directory and interpreted exactly as its shell/README.md describes.

interface EnvVarCase {
  line: number;
  input: string;
  expected: string;
}

function loadEnvVarTest(): EnvVarCase[] {
  const cases: EnvVarCase[] = [];
  readConformanceText("shell", "envVarTest")
    .split("\n")
    .forEach((raw, i) => {
      if (raw.startsWith("#")) return;
      const line = raw.trim();
      if (line === "") return;
      const fields = line.split("|");
      if (fields.length !== 3) throw new Error(`envVarTest:${i + 1}: expected 3 fields`);
      const [platform, input, expected] = fields.map((f) => f.trim()) as [string, string, string];
      if (platform === "A" || platform === "U") cases.push({ line: i + 1, input, expected });
    });
  return cases;
}

interface WordsCase {
  line: number;
  input: string;
  expected: string[];
  env: string[];
}

function loadWordsTest(): WordsCase[] {
  const cases: WordsCase[] = [];
  const env: string[] = [];
  readConformanceText("shell", "wordsTest")
    .split("\n")
    .forEach((line, i) => {
      if (line.startsWith("#")) return;
      if (line.startsWith("ENV ")) {
        env.push(line.slice(3).replace(/^ +/, ""));
        return;
      }
      if (line === "") return; // the final newline
      const parts = line.split("|");
      if (parts.length !== 2) throw new Error(`wordsTest:${i + 1}: expected one '|'`);
      cases.push({
        line: i + 1,
        input: parts[0]!.trim(),
        expected: parts[1]!.replace(/^ +/, "").split(","),
        env: [...env],
      });
    });
  return cases;
}

interface ExpansionCase {
  id: string;
  kind: "process-word" | "process-word-with-matches" | "env-lookup";
  escapeToken?: string;
  env?: string[];
  envMap?: Record<string, string>;
  input?: string;
  name?: string;
  expected: {
    result?: string;
    errorContains?: string;
    error?: boolean;
    matched?: string[];
    unmatched?: string[];
    value?: string;
  };
}

/** passed counts assertions that held, per suite, for the summary printed at the end. */
const passed = { envVarTest: 0, wordsTest: 0, "expansion.json": 0 };
const totals = { envVarTest: 0, wordsTest: 0, "expansion.json": 0 };

afterAll(() => {
  const parts = Object.entries(totals).map(([k, n]) => `${k} ${passed[k as keyof typeof passed]}/${n}`);
  console.log(`shell conformance: ${parts.join(", ")}`);
});

const ENV_VAR_ENV = envsFromSlice(["PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="]);

describe("shell conformance: envVarTest (ProcessWord)", () => {
  const cases = loadEnvVarTest();
  totals.envVarTest = cases.length;
  const lex = new ShellLex({ escapeToken: "\\" });
  it("runs the 228 Unix assertions", () => {
    expect(cases.length).toBe(228);
  });
  it.each(cases)("line $line: $input", ({ input, expected }) => {
    if (expected === "error") {
      expect(() => lex.processWord(input, ENV_VAR_ENV)).toThrow();
    } else {
      expect(lex.processWord(input, ENV_VAR_ENV)).toBe(expected);
    }
    passed.envVarTest++;
  });
});

describe("shell conformance: wordsTest (ProcessWords)", () => {
  const cases = loadWordsTest();
  totals.wordsTest = cases.length;
  const lex = new ShellLex({ escapeToken: "\\" });
  it("runs the 24 assertions", () => {
    expect(cases.length).toBe(24);
  });
  it.each(cases)("line $line: $input", ({ input, expected, env }) => {
    let words: string[];
    try {
      words = lex.processWords(input, envsFromSlice(env));
    } catch {
      words = ["error"];
    }
    expect(words).toEqual(expected);
    passed.wordsTest++;
  });
});

describe("shell conformance: expansion.json", () => {
  const cases = readConformanceJson<ExpansionCase[]>("shell", "expansion.json");
  totals["expansion.json"] = cases.length;
  it("has the 63 cases", () => {
    expect(cases.length).toBe(63);
  });
  it.each(cases)("$id", (c) => {
    const lex = new ShellLex({ escapeToken: c.escapeToken ?? "\\" });
    const e = c.expected;
    check(lex, c, e);
    passed["expansion.json"]++;
  });
});

function check(lex: ShellLex, c: ExpansionCase, e: ExpansionCase["expected"]): void {
  switch (c.kind) {
    case "env-lookup":
      expect(envsFromSlice(c.env ?? []).get(c.name!) ?? "").toBe(e.value);
      return;
    case "process-word": {
      const env = envsFromSlice(c.env ?? []);
      if (e.errorContains !== undefined) {
        expect(() => lex.processWord(c.input!, env)).toThrow(e.errorContains);
      } else {
        expect(lex.processWord(c.input!, env)).toBe(e.result);
      }
      return;
    }
    case "process-word-with-matches": {
      const env = envsFromMap(c.envMap ?? {});
      if (e.error) {
        expect(() => lex.processWordWithMatches(c.input!, env)).toThrow();
        return;
      }
      const r = lex.processWordWithMatches(c.input!, env);
      expect(r.result).toBe(e.result);
      if (e.matched) expect([...r.matched].sort()).toEqual([...e.matched].sort());
      if (e.unmatched) expect([...r.unmatched].sort()).toEqual([...e.unmatched].sort());
      return;
    }
  }
}
