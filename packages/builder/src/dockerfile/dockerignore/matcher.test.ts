import { describe, expect, it } from "vitest";
import { mulberry32, pick } from "../../testing/prng.js";
import { cleanPath, dirPath, isValidGlob } from "./gopath.js";
import { parseIgnoreFile } from "./ignorefile.js";
import { IgnorePatternError, PatternMatcher } from "./matcher.js";

describe("PatternMatcher", () => {
  it.each([
    // [pattern, path, excluded]
    ["[^a]b", "xb", true],
    ["[^a]b", "ab", false],
    ["[!a]b", "!b", true], // `!` does not negate a class (Go filepath.Match grammar)
    ["[!a]b", "xb", false],
    ["a^b", "a^b", true], // no wildcard: an exact match
    ["a*^b", "a^b", false], // in a regexp `^` stays an anchor, as upstream
    ["a\\d", "a7", true], // Go regexp meaning of the escape, as upstream
    ["a\\ b", "a b", true],
    ["*.md", "docs/x.md", false],
    ["**/*.md", "docs/x.md", true],
    ["docs", "docs/deep/x", true],
    ["docs/", "docs/x", true],
    ["**", "anything/at/all", true],
    ["a{b}", "a{b}", true],
  ])("%s ~ %s → %s", (pattern, path, excluded) => {
    expect(new PatternMatcher([pattern]).matchesOrParentMatches(path)).toBe(excluded);
  });

  it("reuses parent results during a walk", () => {
    const pm = new PatternMatcher(["dir", "!dir/keep"]);
    const dir = pm.matchesUsingParentResults("dir", []);
    expect(dir.matched).toBe(true);
    expect(pm.matchesUsingParentResults("dir/keep", dir.info).matched).toBe(false);
    expect(pm.matchesUsingParentResults("dir/other", dir.info).matched).toBe(true);
  });

  it.each(["[", "a[", "[a-", "\\", "[]a]", "[x-]", "!"])("rejects %j", (p) => {
    expect(() => new PatternMatcher([p])).toThrow(IgnorePatternError);
  });

  it.each([
    // Classes mean what they mean in Go's regexp (patternmatcher compiles the pattern to one).
    ["[[:alpha:]]x", "ax", true],
    ["[[:alpha:]]x", "1x", false],
    ["[[:^digit:]]", "a", true],
    ["[[:^digit:]]", "5", false],
    ["v[[:digit:][:upper:]]", "vQ", true],
    ["[a-c]x", "bx", true],
    ["[a-c]x", "dx", false],
    ["[^a-c]", "d", true],
    ["[^a-c]", "/", true], // a negated class may match `/` (it is a regexp class, not filepath.Match)
    ["[a\\-]", "-", true],
    ["[\\d]", "4", true],
    ["[\\]]", "]", true],
    ["[\\pL]", "λ", true],
    ["[\\PL]", "λ", false],
    ["[\\x41-\\x43]", "B", true],
    ["[é]", "é", true],
    ["x[.]", "x.", true],
    ["x[.]", "xy", false],
  ])("class %j ~ %j → %s", (pattern, path, excluded) => {
    expect(new PatternMatcher([pattern]).patterns[0]!.match(path)).toBe(excluded);
  });

  it.each(["[[:alpha:]", "[[:nope:]]", "[z-a]", "[\\q]", "a\\1", "[\\pQ]", "[\\p{Greek}]", "[\\x{41}]"])(
    // `{` and `}` are escaped by patternmatcher, so `\p{…}` and `\x{…}` do not compile in Go either.
    "fails to match with %j, as Go's regexp.Compile does",
    (pattern) => {
      const pm = new PatternMatcher([pattern]);
      expect(() => pm.matchesOrParentMatches("x")).toThrow("syntax error in pattern");
    },
  );

  it("rejects unsupported regexp escapes at match time", () => {
    const pm = new PatternMatcher(["a\\q"]);
    expect(() => pm.matchesOrParentMatches("aq")).toThrow("syntax error in pattern");
  });
});

describe("Go path helpers", () => {
  it.each([
    ["", "."],
    ["a//b/./c/..", "a/b"],
    ["/../x", "/x"],
    ["../../x", "../../x"],
    ["docs/", "docs"],
    ["**/", "**"],
  ])("cleanPath(%j) = %j", (input, expected) => {
    expect(cleanPath(input)).toBe(expected);
  });

  it.each([
    ["file", "."],
    ["file/", "file"],
    ["/", "/"],
    ["a/b/c", "a/b"],
  ])("dirPath(%j) = %j", (input, expected) => {
    expect(dirPath(input)).toBe(expected);
  });

  it.each([
    ["a*b?[c-d]\\*", true],
    ["[^x]", true],
    ["[\\]]", true],
    ["a\\", false],
    ["[x", false],
  ])("isValidGlob(%j) = %j", (p, ok) => {
    expect(isValidGlob(p)).toBe(ok);
  });
});

describe("parseIgnoreFile", () => {
  it("handles BOM, CRLF, comments, spaces, ./ and leading /", () => {
    expect(parseIgnoreFile("\uFEFFa\r\n  # not a comment\n# comment\n ./b/ \n/c\n!  /d/../e\n\n")).toEqual([
      "a",
      "# not a comment",
      "b",
      "c",
      "!e",
    ]);
  });
});

describe("linear-time matching", () => {
  it("matches many-star patterns on long names quickly (no regexp backtracking)", () => {
    const pm = new PatternMatcher(["**/*a*a*a*a*a*a*b", "x*y*z*w*v*u"]);
    const long = `dir/sub/${"a".repeat(250)}`;
    expect(pm.matchesOrParentMatches(long)).toBe(false);
    expect(pm.matchesOrParentMatches(`${long}b`)).toBe(true);
  });

  it("matches class patterns in linear time too", () => {
    const pm = new PatternMatcher(["[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[0-9]"]);
    const long = "a".repeat(5000);
    expect(pm.matchesOrParentMatches(long)).toBe(false);
    expect(pm.matchesOrParentMatches(`${long}7`)).toBe(true);
  });

  /** oracle translates a class-free pattern to a JS RegExp the way patternmatcher builds its Go regexp. */
  function oracle(pattern: string): RegExp {
    let re = "^";
    const c = Array.from(pattern);
    for (let i = 0; i < c.length; i++) {
      if (c[i] === "*" && c[i + 1] === "*") {
        i++;
        if (c[i + 1] === "/") i++;
        re += i + 1 >= c.length ? "[^\\n]*" : "([^\\n]*/)?";
      } else if (c[i] === "*") re += "[^/]*";
      else if (c[i] === "?") re += "[^/]";
      else if (c[i] === "\\") re += `\\${c[++i]}`;
      else re += c[i]!.replace(/[.+()|{}$^]/, "\\$&");
    }
    return new RegExp(`${re}$`, "u");
  }

  it("agrees with a RegExp translation on random patterns and paths", () => {
    const random = mulberry32(1);
    const word = (alphabet: string[], max: number) =>
      Array.from({ length: 1 + Math.floor(random() * max) }, () => pick(random, alphabet)).join("");
    let compared = 0;
    for (let i = 0; i < 3000; i++) {
      const pattern = word(["a", "b", "/", "*", "**", "?", ".", "\\*", "ab"], 6);
      const path = word(["a", "b", "/", ".", "*", "ab", "ba/"], 8);
      let pm: PatternMatcher;
      try {
        pm = new PatternMatcher([pattern]);
      } catch {
        continue;
      }
      const p = pm.patterns[0]!;
      if (p.matchType !== "regexp") continue;
      expect(p.match(path), `${pattern} ~ ${path}`).toBe(oracle(p.cleaned).test(path));
      compared++;
    }
    expect(compared).toBeGreaterThan(1000);
  });
});
