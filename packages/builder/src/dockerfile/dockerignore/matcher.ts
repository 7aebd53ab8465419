import { BuildError } from "../../errors.js";
import { cleanPath, dirPath, ERR_BAD_PATTERN, isValidGlob, trimSpace } from "./gopath.js";

/**
 * IgnorePatternError is a malformed .dockerignore pattern. Its message is
 * Go's (`syntax error in pattern`, `illegal exclusion pattern: "!"`) so it
 * reads like docker's.
 */
export class IgnorePatternError extends BuildError {
  override readonly name = "IgnorePatternError";
  constructor(
    message: string,
    readonly pattern: string,
  ) {
    super("INVALID_IGNORE_PATTERN", message);
  }
}

/**
 * GlobToken is one element of a class-free pattern, matched by a linear NFA instead of a JS RegExp: a
 * backtracking regexp is exponential on patterns like `*a*a*a*b`, where Go's RE2 (what moby uses) is
 * linear. Patterns with `[...]` classes keep the RegExp translation (their Go syntax is rich and rare).
 */
type GlobToken =
  | { kind: "char"; test: (ch: string) => boolean }
  | { kind: "star" } // [^/]*
  | { kind: "anyStar" } // [^\n]*
  | { kind: "dirs" } // ([^\n]*/)?
  | { kind: "start" }; // a raw `^`: only matches at the very beginning

/** globMatch runs the tokens over `path` (whole-string match) in O(path × tokens). */
function globMatch(tokens: readonly GlobToken[], path: string): boolean {
  const n = tokens.length;
  // State 2i: token i is next; state 2i+1: inside the `([^\n]*/)?` loop of token i.
  const close = (states: Set<number>, pos: number): Set<number> => {
    const stack = [...states];
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (s % 2 === 1) continue;
      const t = tokens[s / 2];
      if (!t) continue;
      const push = (x: number) => {
        if (!states.has(x)) {
          states.add(x);
          stack.push(x);
        }
      };
      if (t.kind === "star" || t.kind === "anyStar") push(s + 2);
      else if (t.kind === "dirs") {
        push(s + 1);
        push(s + 2);
      } else if (t.kind === "start" && pos === 0) push(s + 2);
    }
    return states;
  };
  let states = close(new Set([0]), 0);
  let pos = 0;
  for (const ch of path) {
    const next = new Set<number>();
    for (const s of states) {
      const t = tokens[Math.floor(s / 2)];
      if (!t) continue;
      if (s % 2 === 1) {
        if (ch !== "\n") next.add(s);
        if (ch === "/") next.add(s + 1);
      } else if (t.kind === "star") {
        if (ch !== "/") next.add(s);
      } else if (t.kind === "anyStar") {
        if (ch !== "\n") next.add(s);
      } else if (t.kind === "char" && t.test(ch)) {
        next.add(s + 2);
      }
    }
    pos += ch.length;
    states = close(next, pos);
    if (states.size === 0) return false;
  }
  return states.has(2 * n);
}

const literal = (c: string) => ({ kind: "char" as const, test: (ch: string) => ch === c });

export type MatchType = "exact" | "prefix" | "suffix" | "regexp";

/** Characters that are regexp syntax but plain in a glob; patternmatcher escapes them. */
const ESCAPED = new Set([".", "+", "(", ")", "|", "{", "}", "$"]);
/** Characters a JS `u` regexp lets you escape with `\`. */
const JS_SYNTAX = new Set(["^", "$", "\\", ".", "*", "+", "?", "(", ")", "[", "]", "{", "}", "|", "/"]);

/**
 * IgnorePattern is one compiled pattern. Like moby/patternmatcher it is
 * classified as exact, prefix (`dir/**`), suffix (a leading `**`) or a regexp, and
 * compiled lazily, so a pattern that passes the glob syntax check but is not
 * a valid regexp (e.g. `[Local-Only]`) fails at every match, as upstream.
 */
export class IgnorePattern {
  readonly exclusion: boolean;
  /** cleaned is the pattern after trimming, cleaning and removing a leading `!`. */
  readonly cleaned: string;
  readonly dirs: string[];
  private type: MatchType | undefined;
  private regexp: RegExp | undefined;
  private tokens: GlobToken[] | undefined;

  constructor(cleaned: string, exclusion: boolean) {
    this.cleaned = cleaned;
    this.exclusion = exclusion;
    this.dirs = cleaned.split("/");
  }

  toString(): string {
    return this.cleaned;
  }

  /** matchType is how the pattern is matched (compiling it if needed); exposed for tests and diagnostics. */
  get matchType(): MatchType {
    if (this.type === undefined) this.compile();
    return this.type!;
  }

  /** match tests a slash-separated path; throws IgnorePatternError when the pattern cannot compile. */
  match(path: string): boolean {
    if (this.type === undefined) this.compile();
    switch (this.type) {
      case "exact":
        return path === this.cleaned;
      case "prefix":
        return path.startsWith(this.cleaned.slice(0, -2));
      case "suffix": {
        const suffix = this.cleaned.slice(2);
        if (path.endsWith(suffix)) return true;
        return suffix.startsWith("/") && path === suffix.slice(1);
      }
      default:
        return this.tokens ? globMatch(this.tokens, path) : this.regexp!.test(path);
    }
  }

  /** compile builds the matcher with patternmatcher's rules (`*` and `?` stop at `/`, `**` crosses it). */
  private compile(): void {
    const chars = Array.from(this.cleaned);
    let re = "^";
    let type: MatchType = "exact";
    let inClass = false;
    const tokens: GlobToken[] = [];
    let hasClass = false;
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i]!;
      if (ch === "*") {
        const start = i;
        if (chars[i + 1] === "*") {
          i++;
          if (chars[i + 1] === "/") i++;
          if (i + 1 >= chars.length) {
            if (type === "exact") {
              type = "prefix";
            } else {
              re += "[^\\n]*";
              tokens.push({ kind: "anyStar" });
              type = "regexp";
            }
          } else {
            re += "([^\\n]*/)?";
            tokens.push({ kind: "dirs" });
            type = "regexp";
          }
          // A leading `**` makes it a suffix match.
          if (start === 0) type = "suffix";
        } else {
          re += "[^/]*";
          tokens.push({ kind: "star" });
          type = "regexp";
        }
      } else if (ch === "?") {
        re += "[^/]";
        tokens.push({ kind: "char", test: (c) => c !== "/" });
        type = "regexp";
      } else if (ESCAPED.has(ch)) {
        re += `\\${ch}`;
        tokens.push(literal(ch));
      } else if (ch === "\\") {
        const next = chars[i + 1];
        if (next === undefined) {
          re += "\\\\";
          tokens.push(literal("\\"));
        } else {
          i++;
          re += goEscape(next, inClass, this.cleaned);
          tokens.push(goEscapeToken(next, this.cleaned));
          type = "regexp";
        }
      } else if (ch === "[" || ch === "]") {
        if (ch === "[" && !inClass) inClass = true;
        else if (ch === "]") inClass = false;
        re += ch;
        hasClass = true;
        type = "regexp";
      } else {
        // `^` keeps its regexp meaning (anchor, or class negation) exactly as in Go.
        re += ch;
        tokens.push(ch === "^" ? { kind: "start" } : literal(ch));
      }
    }
    if (type === "regexp" && !hasClass) {
      this.tokens = tokens;
    } else if (type === "regexp") {
      try {
        this.regexp = new RegExp(`${re}$`, "u");
      } catch {
        throw new IgnorePatternError(ERR_BAD_PATTERN, this.cleaned);
      }
    }
    this.type = type;
  }
}

/** goEscapeToken is goEscape for the NFA: the character test Go's `\c` stands for (outside a class). */
function goEscapeToken(c: string, pattern: string): GlobToken {
  const ascii = (re: RegExp) => ({ kind: "char" as const, test: (ch: string) => re.test(ch) });
  if (c > "\x7f") throw new IgnorePatternError(ERR_BAD_PATTERN, pattern);
  if (!/^[A-Za-z0-9]$/.test(c)) return literal(c);
  const tests: Record<string, GlobToken> = {
    d: ascii(/^[0-9]$/),
    D: ascii(/^[^0-9]$/u),
    w: ascii(/^[0-9A-Za-z_]$/),
    W: ascii(/^[^0-9A-Za-z_]$/u),
    s: ascii(/^[\t\n\f\r ]$/),
    t: literal("\t"),
    n: literal("\n"),
    r: literal("\r"),
    f: literal("\f"),
    v: literal("\v"),
    a: literal("\x07"),
  };
  const t = tests[c];
  if (t === undefined) throw new IgnorePatternError(ERR_BAD_PATTERN, pattern);
  return t;
}

/**
 * goEscape translates a Go regexp escape `\c` into JS: escaped punctuation is
 * the literal character, and the Perl classes mean what Go means by them.
 * Escapes JS cannot express identically are rejected as a bad pattern.
 */
function goEscape(c: string, inClass: boolean, pattern: string): string {
  if (c > "\x7f") throw new IgnorePatternError(ERR_BAD_PATTERN, pattern);
  if (/^[A-Za-z0-9]$/.test(c)) {
    const mapped: Record<string, string> = {
      d: "\\d",
      D: "\\D",
      w: "\\w",
      W: "\\W",
      t: "\\t",
      n: "\\n",
      r: "\\r",
      f: "\\f",
      v: "\\v",
      a: "\\x07",
      s: inClass ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]",
    };
    const js = mapped[c];
    if (js === undefined) throw new IgnorePatternError(ERR_BAD_PATTERN, pattern);
    return js;
  }
  if (JS_SYNTAX.has(c) || (c === "-" && inClass)) return `\\${c}`;
  return c;
}

/**
 * PatternMatcher decides which paths a pattern list (a .dockerignore)
 * excludes, with moby/patternmatcher semantics: patterns apply in order, a
 * match sets the result to "excluded" (or "included" for a `!` pattern), and
 * a pattern matching a parent directory matches everything below it.
 */
export class PatternMatcher {
  readonly patterns: readonly IgnorePattern[];
  /** exclusions is true when any pattern starts with `!`. */
  readonly exclusions: boolean;

  constructor(patterns: readonly string[]) {
    const out: IgnorePattern[] = [];
    let exclusions = false;
    for (const raw of patterns) {
      let p = trimSpace(raw);
      if (p === "") continue;
      p = cleanPath(p);
      let exclusion = false;
      if (p.startsWith("!")) {
        if (p.length === 1) throw new IgnorePatternError('illegal exclusion pattern: "!"', raw);
        exclusion = true;
        exclusions = true;
        p = p.slice(1);
      }
      if (!isValidGlob(p)) throw new IgnorePatternError(ERR_BAD_PATTERN, raw);
      out.push(new IgnorePattern(p, exclusion));
    }
    this.patterns = out;
    this.exclusions = exclusions;
  }

  /** matchesOrParentMatches is patternmatcher's MatchesOrParentMatches: is `file` excluded? */
  matchesOrParentMatches(file: string): boolean {
    const parent = dirPath(file);
    const parentDirs = parent.split("/");
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      let match = pattern.match(file);
      if (!match && parent !== ".") {
        for (let i = 0; i < parentDirs.length && !match; i++) {
          match = quietMatch(pattern, parentDirs.slice(0, i + 1).join("/"));
        }
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * matchesUsingParentResults is the walk-friendly form: `parent` holds the
   * per-pattern results of the parent directory (undefined at the top or when
   * unknown, in which case parents are checked as in matchesOrParentMatches).
   */
  matchesUsingParentResults(
    file: string,
    parent?: readonly boolean[],
  ): { matched: boolean; info: boolean[] } {
    const info: boolean[] = new Array(this.patterns.length).fill(false);
    let matched = false;
    this.patterns.forEach((pattern, i) => {
      let match = parent?.[i] ?? false;
      if (!match) {
        if (pattern.exclusion !== matched) return;
        match = pattern.match(file);
        if (!match && parent === undefined) {
          const parentPath = dirPath(file);
          if (parentPath !== ".") {
            const dirs = parentPath.split("/");
            for (let j = 0; j < dirs.length && !match; j++) {
              match = quietMatch(pattern, dirs.slice(0, j + 1).join("/"));
            }
          }
        }
      }
      info[i] = match;
      if (match) matched = !pattern.exclusion;
    });
    return { matched, info };
  }

  /**
   * legacyMatches is the deprecated `Matches`: like matchesOrParentMatches,
   * but only the one parent prefix with as many components as the pattern is
   * tried. Kept because old docker clients behaved this way.
   */
  legacyMatches(file: string): boolean {
    const parent = dirPath(file);
    const parentDirs = parent.split("/");
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      let match = pattern.match(file);
      if (!match && parent !== "." && pattern.dirs.length <= parentDirs.length) {
        match = quietMatch(pattern, parentDirs.slice(0, pattern.dirs.length).join("/"));
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }
}

/** quietMatch matches a parent path; upstream ignores errors there (the file itself already reported them). */
function quietMatch(pattern: IgnorePattern, path: string): boolean {
  try {
    return pattern.match(path);
  } catch {
    return false;
  }
}

/** legacyMatches is the package-level `Matches(file, patterns)`: cleans `file`, and "." never matches. */
export function legacyMatches(file: string, patterns: readonly string[]): boolean {
  const pm = new PatternMatcher(patterns);
  const cleaned = cleanPath(file);
  if (cleaned === ".") return false;
  return pm.legacyMatches(cleaned);
}
