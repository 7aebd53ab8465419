import { describe, expect, it } from "vitest";
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
