import { BuildError } from "../../errors.js";
import { cleanPath, dirPath, ERR_BAD_PATTERN, isValidGlob, trimSpace } from "./gopath.js";
import { type GlobToken, GoRegexpError, globMatch, goRegexpTokens } from "./goregex.js";

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

export type MatchType = "exact" | "prefix" | "suffix" | "regexp";

/** Characters that are regexp syntax but plain in a glob; patternmatcher escapes them. */
const ESCAPED = new Set([".", "+", "(", ")", "|", "{", "}", "$"]);
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
        return globMatch(this.tokens!, path);
    }
  }

  /**
   * compile builds the matcher with patternmatcher's rules (`*` and `?` stop at `/`, `**` crosses it): the
   * same Go regexp string, read by goRegexpTokens into a linear-time NFA.
   */
  private compile(): void {
    const chars = Array.from(this.cleaned);
    let re = "";
    let type: MatchType = "exact";
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
              type = "regexp";
            }
          } else {
            re += "([^\\n]*/)?";
            type = "regexp";
          }
          // A leading `**` makes it a suffix match.
          if (start === 0) type = "suffix";
        } else {
          re += "[^/]*";
          type = "regexp";
        }
      } else if (ch === "?") {
        re += "[^/]";
        type = "regexp";
      } else if (ESCAPED.has(ch)) {
        re += `\\${ch}`;
      } else if (ch === "\\") {
        // `\c` stays a Go regexp escape (a trailing `\` cannot occur: isValidGlob rejected it).
        if (i + 1 < chars.length) {
          re += `\\${chars[++i]}`;
          type = "regexp";
        } else re += "\\";
      } else {
        if (ch === "[" || ch === "]") type = "regexp";
        // `^` keeps its regexp meaning (anchor, or class negation) exactly as in Go.
        re += ch;
      }
    }
    if (type === "regexp") {
      try {
        this.tokens = goRegexpTokens(re);
      } catch (err) {
        if (!(err instanceof GoRegexpError)) throw err;
        throw new IgnorePatternError(ERR_BAD_PATTERN, this.cleaned);
      }
    }
    this.type = type;
  }
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
    const parents = parentPrefixes(file);
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      if (pattern.match(file) || parents.some((p) => quietMatch(pattern, p))) matched = !pattern.exclusion;
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
    const parents = parent === undefined ? parentPrefixes(file) : [];
    const info: boolean[] = new Array(this.patterns.length).fill(false);
    let matched = false;
    this.patterns.forEach((pattern, i) => {
      let match = parent?.[i] ?? false;
      if (!match) {
        if (pattern.exclusion !== matched) return;
        match = pattern.match(file) || parents.some((p) => quietMatch(pattern, p));
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
    const parents = parentPrefixes(file);
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      const prefix = parents[pattern.dirs.length - 1];
      if (pattern.match(file) || (prefix !== undefined && quietMatch(pattern, prefix)))
        matched = !pattern.exclusion;
    }
    return matched;
  }
}

/** parentPrefixes lists the parent directories of `file` from the top: `a/b/c` → `a`, `a/b`. */
function parentPrefixes(file: string): string[] {
  const parent = dirPath(file);
  if (parent === ".") return [];
  const dirs = parent.split("/");
  return dirs.map((_, i) => dirs.slice(0, i + 1).join("/"));
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
