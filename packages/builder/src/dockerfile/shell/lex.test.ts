// biome-ignore-all lint/suspicious/noTemplateCurlyInString: inputs are Dockerfile `${}` syntax
import { describe, expect, it } from "vitest";
import { envsFromMap, envsFromSlice } from "./env.js";
import { ShellExpansionError, ShellLex } from "./lex.js";
import { reversePattern } from "./pattern.js";

const env = envsFromMap({ A: "a", EMPTY: "", PATH_: "/usr/local/bin:/usr/bin", SPACED: "x  y" });

describe("ShellLex options", () => {
  it.each([
    // [options, input, expected]
    [{ escapeToken: "`" }, "C:\\go`$A", "C:\\go$A"],
    [{ escapeToken: "`" }, '"a`"b"', 'a"b'],
    [{ escapeToken: "`" }, "\\$A", "\\a"],
    [{ rawQuotes: true }, `'x' "$A"`, `'x' "a"`],
    [{ rawEscapes: true }, "a\\ b", "a\\ b"],
    [{ skipUnsetEnv: true }, "$NOPE ${NOPE} ${NOPE:-d} $A", "$NOPE ${NOPE} ${NOPE:-d} a"],
    [{ skipUnsetEnv: true }, "${NOPE/x/y}", "${NOPE/x/y}"],
    [{ skipProcessQuotes: true }, `'$A' "b"`, `'a' "b"`],
  ])("%o: %s", (options, input, expected) => {
    expect(new ShellLex(options).processWord(input, env)).toBe(expected);
  });
});

describe("ShellLex modifiers", () => {
  const lex = new ShellLex();
  it.each([
    ["${PATH_#*:}", "/usr/bin"],
    ["${PATH_##*/}", "bin"],
    ["${PATH_%:*}", "/usr/local/bin"],
    ["${PATH_%%/*}", ""],
    ["${PATH_/usr/opt}", "/opt/local/bin:/usr/bin"],
    ["${PATH_//usr/opt}", "/opt/local/bin:/opt/bin"],
    ["${A//x*/y}", "a"],
    // An escaped `$` keeps its escape in a replacement.
    ["${A//a/<\\$0>}", "<\\a>"],
    // Go does not replace an empty match directly after a previous match.
    ["${PATH_//*([a-z]/-}", "/usr/local/bin:/usr/bin"],
    ["${EMPTY:-d}${EMPTY-d}", "d"],
    ["${EMPTY:+s}${EMPTY+s}", "s"],
  ])("%s → %s", (input, expected) => {
    expect(lex.processWord(input, env)).toBe(expected);
  });

  it.each([
    // Go's ReplaceAllString: `$0` is the match, `$$` a dollar, other names empty.
    ["<$0>", "<a>"],
    ["$$", "$"],
    ["$1z${x}", ""],
    ["$", "$"],
  ])("expands replacement template %s like Go", (repl, expected) => {
    expect(lex.processWord("${A//a/$R}", envsFromSlice(["A=a", `R=${repl}`]))).toBe(expected);
  });

  it("replaces empty matches the way Go does", () => {
    const v = envsFromSlice(["V=abc"]);
    expect(lex.processWord("${V///-}", v)).toBe("-a-b-c-");
    // No replacement for the empty match right after `*` consumed everything (JS would give "--").
    expect(lex.processWord("${V//*/-}", v)).toBe("-");
  });

  it.each([
    ["${A:?}", undefined],
    ["${NOPE?}", "NOPE: is not allowed to be unset"],
    ["${EMPTY:?}", "EMPTY: is not allowed to be empty"],
    ["${EMPTY:?custom $A}", "EMPTY: custom a"],
    ["${A#\\x}", "invalid pattern (\\x) in substitution: invalid escape '\\x'"],
    ["${A=x}", "unsupported modifier (=) in substitution"],
    ["${A:#x}", "unsupported modifier (:#) in substitution"],
    ["${A", "unsupported modifier (\uFFFD) in substitution"],
    ["${A:", "syntax error: missing '}'"],
    ["${A/x", "syntax error: missing '/' in ${}"],
    ["${A/x/y", "syntax error: missing '}'"],
    ["'open", "unexpected end of statement while looking for matching single-quote"],
  ])("%s fails with %s", (input, message) => {
    if (message === undefined) {
      expect(lex.processWord(input, env)).toBe("a");
      return;
    }
    expect(() => lex.processWord(input, env)).toThrow(ShellExpansionError);
    expect(() => lex.processWord(input, env)).toThrow(
      `failed to process ${JSON.stringify(input)}: ${message}`,
    );
  });

  it("reports matched and unmatched variables", () => {
    const r = lex.processWordWithMatches("$A ${NOPE:-x} ${EMPTY+y} $1", env);
    expect(r.result).toBe("a x y ");
    expect([...r.matched].sort()).toEqual(["A", "EMPTY"]);
    expect([...r.unmatched].sort()).toEqual(["1", "NOPE"]);
  });

  it("splits unquoted values but keeps quoted ones whole", () => {
    expect(lex.processWords(`$SPACED "$SPACED" '$A'`, env)).toEqual(["x", "y", "x  y", "$A"]);
  });

  it("keeps text before a modifier expansion when splitting", () => {
    expect(lex.processWords("pre${NOPE:-a b}post", env)).toEqual(["prea", "bpost"]);
  });

  it("reverses patterns keeping escapes attached", () => {
    expect(reversePattern("a\\*c")).toBe("c\\*a");
    expect(reversePattern("ab\\")).toBe("\\ba");
  });

  it("handles long inputs in linear time", () => {
    const long = "$A".repeat(50_000);
    expect(lex.processWord(long, env)).toBe("a".repeat(50_000));
  });
});
