// biome-ignore-all lint/suspicious/noTemplateCurlyInString: inputs are Dockerfile `${}` syntax
import { describe, expect, it } from "vitest";
import { envsFromSlice } from "./env.js";
import { ShellExpansionError, ShellLex } from "./lex.js";

/** mulberry32 is a small seeded PRNG, so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = [
  "$",
  "{",
  "}",
  ":",
  "-",
  "+",
  "?",
  "#",
  "%",
  "/",
  "\\",
  "`",
  "'",
  '"',
  " ",
  "\t",
  "\n",
  "*",
  "A",
  "B",
  "a",
  "1",
  "@",
  "=",
  "한",
  "😀",
];
const env = envsFromSlice(["A=aaa", "B=", "a=x y", "AB=*?"]);

describe("shell lexer robustness", () => {
  it("only ever fails with ShellExpansionError on random input", () => {
    const next = rng(42);
    for (const escapeToken of ["\\", "`"]) {
      const lex = new ShellLex({ escapeToken });
      for (let i = 0; i < 5000; i++) {
        const len = Math.floor(next() * 24);
        let word = "";
        for (let j = 0; j < len; j++) word += ALPHABET[Math.floor(next() * ALPHABET.length)];
        for (const call of [() => lex.processWord(word, env), () => lex.processWords(word, env)]) {
          try {
            call();
          } catch (err) {
            if (!(err instanceof ShellExpansionError)) throw new Error(`${JSON.stringify(word)}: ${err}`);
          }
        }
      }
    }
  });

  it("matches patterns in linear time (no regexp backtracking)", () => {
    const lex = new ShellLex();
    const long = envsFromSlice([`V=${"a".repeat(20_000)}`]);
    expect(lex.processWord("${V//*a*a*a*a*a*a*b/x}", long)).toBe("a".repeat(20_000));
    expect(lex.processWord("${V##*a*a*a*a*b}", long)).toBe("a".repeat(20_000));
    expect(lex.processWord("${V%%a*a*a*a*b}", long)).toBe("a".repeat(20_000));
    expect(lex.processWord("${V/a*a*a/x}", long)).toBe("x");
  });

  it("expands very long words", () => {
    const lex = new ShellLex();
    const word = `${"x".repeat(100_000)}\${A:-${"y".repeat(100_000)}}`;
    expect(lex.processWord(word, env)).toHaveLength(100_003);
  });
});
