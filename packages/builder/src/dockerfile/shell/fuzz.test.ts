// biome-ignore-all lint/suspicious/noTemplateCurlyInString: inputs are Dockerfile `${}` syntax
import { describe, expect, it } from "vitest";
import { mulberry32, pick } from "../../testing/prng.js";
import { envsFromSlice } from "./env.js";
import { ShellExpansionError, ShellLex } from "./lex.js";

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
    const next = mulberry32(42);
    for (const escapeToken of ["\\", "`"]) {
      const lex = new ShellLex({ escapeToken });
      for (let i = 0; i < 5000; i++) {
        const len = Math.floor(next() * 24);
        let word = "";
        for (let j = 0; j < len; j++) word += pick(next, ALPHABET);
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
