/**
 * moby/patternmatcher turns a .dockerignore pattern into a Go (RE2) regexp and matches with it. This
 * file reads the small part of RE2 syntax that translation can produce (literals, escapes, `[...]`
 * classes with POSIX `[:alpha:]`, Perl `\d` and Unicode `\p{L}` classes, `X*`, a leading-position `^`,
 * and the any-directories group it emits for a double star) into tokens for a linear-time NFA, so matching is
 * linear like RE2 and a class means exactly what it means in Go (not what a JS RegExp would make of it).
 */

/** CharTest is a set of characters. */
export type CharTest = (ch: string) => boolean;

/** GlobToken is one step of the NFA. */
export type GlobToken =
  | { kind: "char"; test: CharTest }
  | { kind: "repeat"; test: CharTest } // X*
  | { kind: "dirs" } // ([^\n]*/)?
  | { kind: "start" }; // `^`: only matches at the very beginning

/** GoRegexpError is a regexp Go would not compile (patternmatcher then fails every match). */
export class GoRegexpError extends Error {
  override readonly name = "GoRegexpError";
}

const range = (lo: number, hi: number): [number, number] => [lo, hi];
const cp = (ch: string) => ch.codePointAt(0)!;

/** POSIX are RE2's `[:name:]` classes (ASCII only, as in Go). */
const POSIX: Record<string, [number, number][]> = {
  alnum: [range(0x30, 0x39), range(0x41, 0x5a), range(0x61, 0x7a)],
  alpha: [range(0x41, 0x5a), range(0x61, 0x7a)],
  ascii: [range(0, 0x7f)],
  blank: [range(9, 9), range(0x20, 0x20)],
  cntrl: [range(0, 0x1f), range(0x7f, 0x7f)],
  digit: [range(0x30, 0x39)],
  graph: [range(0x21, 0x7e)],
  lower: [range(0x61, 0x7a)],
  print: [range(0x20, 0x7e)],
  punct: [range(0x21, 0x2f), range(0x3a, 0x40), range(0x5b, 0x60), range(0x7b, 0x7e)],
  space: [range(9, 13), range(0x20, 0x20)],
  upper: [range(0x41, 0x5a)],
  word: [range(0x30, 0x39), range(0x41, 0x5a), range(0x61, 0x7a), range(0x5f, 0x5f)],
  xdigit: [range(0x30, 0x39), range(0x41, 0x46), range(0x61, 0x66)],
};

/** PERL are RE2's `\d`, `\s`, `\w` (ASCII only, as in Go; `\s` has no `\v`). */
const PERL: Record<string, [number, number][]> = {
  d: POSIX.digit!,
  s: [range(9, 10), range(12, 13), range(0x20, 0x20)],
  w: POSIX.word!,
};

const inRanges = (ranges: readonly [number, number][]): CharTest => {
  return (ch) => {
    const c = cp(ch);
    return ranges.some(([lo, hi]) => c >= lo && c <= hi);
  };
};
const negate =
  (t: CharTest): CharTest =>
  (ch) =>
    !t(ch);

const SIMPLE_ESCAPES: Record<string, string> = { a: "\x07", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };

/** Parser reads one regexp string. */
class Parser {
  i = 0;
  constructor(private readonly re: string) {}

  fail(what: string): never {
    throw new GoRegexpError(`error parsing regexp: ${what}: \`${this.re}\``);
  }

  peek(n = 0): string | undefined {
    return this.re[this.i + n];
  }

  /** nextRune reads one code point. */
  nextRune(): string {
    const c = this.re.codePointAt(this.i);
    if (c === undefined) this.fail("missing closing ]");
    const ch = String.fromCodePoint(c);
    this.i += ch.length;
    return ch;
  }

  /** escape reads `\…` after the backslash: a Perl or Unicode class, or one character. */
  escape(): CharTest | string {
    const c = this.re[this.i];
    if (c === undefined) this.fail("trailing backslash at end of expression");
    this.i++;
    if (c === "d" || c === "s" || c === "w") return inRanges(PERL[c]!);
    if (c === "D" || c === "S" || c === "W") return negate(inRanges(PERL[c.toLowerCase()]!));
    if (c === "p" || c === "P") return this.unicodeClass(c === "P");
    if (SIMPLE_ESCAPES[c] !== undefined) return SIMPLE_ESCAPES[c]!;
    if (c === "x") return this.hexEscape();
    if (c >= "0" && c <= "7") {
      // `\0`, or an octal escape of two or three digits; a lone `\1`-`\7` is a backreference (an error)
      let digits = c;
      while (digits.length < 3 && /[0-7]/.test(this.re[this.i] ?? "")) digits += this.re[this.i++];
      if (c !== "0" && digits.length === 1) this.fail(`invalid escape sequence: \`\\${c}\``);
      return String.fromCodePoint(Number.parseInt(digits, 8));
    }
    if (cp(c) < 0x80 && !/[A-Za-z0-9]/.test(c)) return c;
    this.fail(`invalid escape sequence: \`\\${c}\``);
  }

  /** braced reads `{…}` at the cursor (the text inside), or undefined when no `{` is there. */
  braced(what: string): string | undefined {
    if (this.re[this.i] !== "{") return undefined;
    const end = this.re.indexOf("}", this.i);
    if (end < 0) this.fail(`${what}: \`${this.re.slice(this.i - 2)}\``);
    const inside = this.re.slice(this.i + 1, end);
    this.i = end + 1;
    return inside;
  }

  hexEscape(): string {
    let hex = this.braced("invalid escape sequence");
    if (hex === undefined) {
      hex = this.re.slice(this.i, this.i + 2);
      this.i += 2;
    }
    if (!/^[0-9A-Fa-f]{1,8}$/.test(hex) || Number.parseInt(hex, 16) > 0x10ffff)
      this.fail(`invalid escape sequence: \`\\x${hex}\``);
    return String.fromCodePoint(Number.parseInt(hex, 16));
  }

  unicodeClass(negated: boolean): CharTest {
    let name = this.braced("invalid character class range") ?? this.nextRune();
    if (name.startsWith("^")) {
      negated = !negated;
      name = name.slice(1);
    }
    let re: RegExp | undefined;
    for (const form of name === "Any" ? [] : [`\\p{${name}}`, `\\p{Script=${name}}`]) {
      try {
        re = new RegExp(`^${form}$`, "u");
        break;
      } catch {
        // not a JS property name in this form
      }
    }
    const test: CharTest =
      name === "Any"
        ? () => true
        : re
          ? (ch) => re.test(ch)
          : this.fail(`invalid character class range: \`\\p{${name}}\``);
    return negated ? negate(test) : test;
  }

  /** classChar reads one char (maybe escaped) inside a class. */
  classChar(): CharTest | string {
    if (this.re[this.i] === "\\") {
      this.i++;
      return this.escape();
    }
    return this.nextRune();
  }

  /** charClass reads `[...]` after the `[`, with RE2's rules (a leading `]` is literal, `-` ranges). */
  charClass(): CharTest {
    let negated = false;
    if (this.peek() === "^") {
      negated = true;
      this.i++;
    }
    const tests: CharTest[] = [];
    const ranges: [number, number][] = [];
    let first = true;
    while (first || this.peek() !== "]") {
      if (this.peek() === undefined) this.fail("missing closing ]");
      first = false;
      if (this.re.startsWith("[:", this.i)) {
        const end = this.re.indexOf(":]", this.i + 2);
        if (end >= 0) {
          let name = this.re.slice(this.i + 2, end);
          const neg = name.startsWith("^");
          if (neg) name = name.slice(1);
          const posix = POSIX[name];
          if (!posix) this.fail(`invalid character class range: \`${this.re.slice(this.i, end + 2)}\``);
          tests.push(neg ? negate(inRanges(posix)) : inRanges(posix));
          this.i = end + 2;
          continue;
        }
      }
      const lo = this.classChar();
      if (typeof lo !== "string") {
        tests.push(lo);
        continue;
      }
      if (this.peek() === "-" && this.peek(1) !== "]" && this.peek(1) !== undefined) {
        this.i++;
        const hi = this.classChar();
        if (typeof hi !== "string" || cp(hi) < cp(lo))
          this.fail(`invalid character class range: \`${lo}-…\``);
        ranges.push([cp(lo), cp(hi)]);
      } else {
        ranges.push([cp(lo), cp(lo)]);
      }
    }
    this.i++; // the closing ]
    const inSet = inRanges(ranges);
    const test: CharTest = (ch) => inSet(ch) || tests.some((t) => t(ch));
    return negated ? negate(test) : test;
  }
}

const DIRS = "([^\\n]*/)?";

/**
 * goRegexpTokens reads the regexp patternmatcher builds (between its `^` and `$` anchors) into NFA
 * tokens. It throws GoRegexpError where Go's regexp.Compile fails. (A pattern ending in a lone `\`,
 * which would escape the `$`, never gets here: filepath.Match rejects it first.)
 */
export function goRegexpTokens(re: string): GlobToken[] {
  const p = new Parser(re);
  const tokens: GlobToken[] = [];
  while (p.i < re.length) {
    if (re.startsWith(DIRS, p.i)) {
      tokens.push({ kind: "dirs" });
      p.i += DIRS.length;
      continue;
    }
    const ch = p.nextRune();
    let test: CharTest;
    if (ch === "[") test = p.charClass();
    else if (ch === "\\") {
      const e = p.escape();
      test = typeof e === "string" ? (c) => c === e : e;
    } else if (ch === "^") {
      tokens.push({ kind: "start" });
      continue;
    } else if (ch === "*" || ch === "+" || ch === "?")
      p.fail(`missing argument to repetition operator: \`${ch}\``);
    else if ("()|{}.$".includes(ch)) p.fail(`unsupported construct \`${ch}\``);
    else test = (c) => c === ch;
    if (p.peek() === "*") {
      p.i++;
      if (p.peek() === "*" || p.peek() === "+" || p.peek() === "?")
        p.fail(`invalid nested repetition operator: \`*${p.peek()}\``);
      tokens.push({ kind: "repeat", test: test! });
    } else {
      tokens.push({ kind: "char", test: test! });
    }
  }
  return tokens;
}

/**
 * globMatch runs the tokens over `path` (whole-string match) in O(path × tokens): a Thompson NFA whose
 * states are "token i is next" (2i) and "inside the `([^\n]*\/)?` loop of token i" (2i+1).
 */
export function globMatch(tokens: readonly GlobToken[], path: string): boolean {
  const accept = 2 * tokens.length;
  const seen = new Int32Array(accept + 2).fill(-1);
  let gen = 0;
  let pos = 0;
  // add puts a state and everything reachable from it without input into `list`, once per step.
  const add = (list: number[], s: number): void => {
    if (seen[s] === gen) return;
    seen[s] = gen;
    list.push(s);
    const t = s % 2 === 0 ? tokens[s / 2] : undefined;
    if (t?.kind === "repeat") add(list, s + 2);
    else if (t?.kind === "dirs") {
      add(list, s + 1);
      add(list, s + 2);
    } else if (t?.kind === "start" && pos === 0) add(list, s + 2);
  };
  let cur: number[] = [];
  let next: number[] = [];
  add(cur, 0);
  for (const ch of path) {
    gen++;
    pos += ch.length;
    next.length = 0;
    for (const s of cur) {
      const t = tokens[s >> 1];
      if (t === undefined) continue;
      if (s % 2 === 1) {
        if (ch !== "\n") add(next, s);
        if (ch === "/") add(next, s + 1);
      } else if (t.kind === "repeat") {
        if (t.test(ch)) add(next, s);
      } else if (t.kind === "char" && t.test(ch)) {
        add(next, s + 2);
      }
    }
    if (next.length === 0) return false;
    [cur, next] = [next, cur];
  }
  return seen[accept] === gen;
}
