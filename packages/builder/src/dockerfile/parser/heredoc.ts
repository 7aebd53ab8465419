import { DockerfileError } from "../../errors.js";
import type { Heredoc } from "./ast.js";
import { isSpace } from "./chars.js";
import { ParseProblem } from "./problem.js";

const EOF = -1;
const BACKSLASH = 0x5c;

/** LexError is a quoting/substitution error of the heredoc word lexer. */
class LexError extends Error {}

class Words {
  words: string[] = [];
  word = "";
  inWord = false;
  // the last two characters appended, to attach blanks that follow `<<` to the word (BuildKit's lexer)
  private p1 = 0;
  private p2 = 0;
  private afterOp = false;

  addChar(ch: number): void {
    if (isSpace(ch)) {
      if (this.afterOp) this.addRawChar(ch);
      else if (this.inWord && this.word.length !== 0) {
        this.words.push(this.word);
        this.word = "";
        this.inWord = false;
        this.p1 = this.p2 = 0;
      }
    } else this.addRawChar(ch);
  }

  addRawChar(ch: number): void {
    this.word += String.fromCodePoint(ch);
    this.inWord = true;
    this.p2 = this.p1;
    this.p1 = ch;
    if (!isSpace(ch)) this.afterOp = this.p1 === 0x3c && this.p2 === 0x3c;
  }

  addString(s: string): void {
    for (const c of s) this.addChar(c.codePointAt(0)!);
  }

  addRawString(s: string): void {
    for (const c of s) this.addRawChar(c.codePointAt(0)!);
  }

  get(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = "";
      this.inWord = false;
    }
    return this.words;
  }
}

/**
 * WordLexer is the subset of the reference shell lexer that heredoc detection needs: word splitting with
 * quotes and `\` escapes, and `$` substitutions left as written (every variable is unset and skipped).
 */
class WordLexer {
  private pos = 0;
  private rawEscapes: boolean;

  constructor(
    private readonly src: string,
    private readonly rawQuotes: boolean,
    rawEscapes: boolean,
  ) {
    this.rawEscapes = rawEscapes;
  }

  private peek(): number {
    return this.pos < this.src.length ? this.src.codePointAt(this.pos)! : EOF;
  }

  private next(): number {
    if (this.pos >= this.src.length) return EOF;
    const c = this.src.codePointAt(this.pos)!;
    this.pos += c > 0xffff ? 2 : 1;
    return c;
  }

  words(): string[] {
    return this.processStopOn(EOF, this.rawEscapes).words;
  }

  private processStopOn(stop: number, rawEscapes: boolean): { result: string; words: string[] } {
    let result = "";
    const words = new Words();
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      while (this.peek() !== EOF) {
        let ch = this.peek();
        if (stop !== EOF && ch === stop) {
          this.next();
          return { result, words: words.get() };
        }
        if (ch === 0x24) {
          const tmp = this.processDollar();
          result += tmp;
          words.addString(tmp);
        } else if (ch === 0x27 || ch === 0x22) {
          const tmp = ch === 0x27 ? this.processSingleQuote() : this.processDoubleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else {
          ch = this.next();
          if (ch === BACKSLASH) {
            if (this.rawEscapes) {
              words.addRawChar(ch);
              result += "\\";
            }
            ch = this.next();
            if (ch === EOF) break;
            words.addRawChar(ch);
          } else words.addChar(ch);
          result += String.fromCodePoint(ch);
        }
      }
      if (stop !== EOF)
        throw new LexError(
          `unexpected end of statement while looking for matching ${String.fromCodePoint(stop)}`,
        );
      return { result, words: words.get() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    let result = "";
    this.next();
    if (this.rawQuotes) result += "'";
    for (;;) {
      const ch = this.next();
      if (ch === EOF)
        throw new LexError("unexpected end of statement while looking for matching single-quote");
      if (ch === 0x27) {
        if (this.rawQuotes) result += "'";
        return result;
      }
      result += String.fromCodePoint(ch);
    }
  }

  private processDoubleQuote(): string {
    let result = "";
    this.next();
    if (this.rawQuotes) result += '"';
    for (;;) {
      const p = this.peek();
      if (p === EOF)
        throw new LexError("unexpected end of statement while looking for matching double-quote");
      if (p === 0x22) {
        this.next();
        if (this.rawQuotes) result += '"';
        return result;
      }
      if (p === 0x24) {
        result += this.processDollar();
        continue;
      }
      let ch = this.next();
      if (ch === BACKSLASH) {
        if (this.rawEscapes) result += "\\";
        const q = this.peek();
        if (q === EOF) continue;
        if (q === 0x22 || q === 0x24 || q === BACKSLASH) ch = this.next();
      }
      result += String.fromCodePoint(ch);
    }
  }

  private processName(): string {
    let name = "";
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name.length === 0 && ch >= 0x30 && ch <= 0x39) {
        while (this.peek() >= 0x30 && this.peek() <= 0x39) name += String.fromCodePoint(this.next());
        return name;
      }
      if (name.length === 0 && "@*#?-$!0".includes(String.fromCodePoint(ch))) {
        return String.fromCodePoint(this.next());
      }
      if (!/^[\p{L}\p{Nd}_]$/u.test(String.fromCodePoint(ch))) break;
      name += String.fromCodePoint(this.next());
    }
    return name;
  }

  // every variable is unset here, and unset variables are kept as written (SkipUnsetEnv)
  private processDollar(): string {
    this.next();
    if (this.peek() !== 0x7b) {
      const name = this.processName();
      return name === "" ? "$" : `$${name}`;
    }
    this.next();
    const p = this.peek();
    if (p === EOF) throw new LexError("syntax error: missing '}'");
    if (p === 0x7b || p === 0x7d || p === 0x3a) throw new LexError("syntax error: bad substitution");
    const name = this.processName();
    let ch = this.next();
    const str = (c: number) => (c === EOF ? "\uFFFD" : String.fromCodePoint(c));
    let chs = str(ch);
    if (ch === 0x7d) return `\${${name}}`;
    if (ch === 0x3a) {
      ch = this.next();
      chs += str(ch);
    }
    if (chs.startsWith(":") || "+-?#%".includes(str(ch))) {
      const rawEsc = ch === 0x23 || ch === 0x25;
      let word: string;
      try {
        word = this.processStopOn(0x7d, rawEsc).result;
      } catch (e) {
        if (this.peek() === EOF) throw new LexError("syntax error: missing '}'");
        throw e;
      }
      return `\${${name}${chs}${word}}`;
    }
    if (ch === 0x2f) {
      if (this.peek() === 0x2f) this.next();
      const pattern = this.processStopOn(0x2f, true).result;
      const replacement = this.processStopOn(0x7d, true).result;
      return `\${${name}/${pattern}/${replacement}}`;
    }
    throw new LexError(`unsupported modifier (${chs}) in substitution`);
  }
}

function lexWords(src: string, rawQuotes: boolean, rawEscapes: boolean): string[] {
  return new WordLexer(src, rawQuotes, rawEscapes).words();
}

const countQuotes = (s: string) => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x27 || c === 0x22) n++;
  }
  return n;
};

/**
 * parseHeredocWord classifies one word: a heredoc opener `[n]<<[-]WORD` gives its name and flags
 * (content empty), any other word gives undefined, and a malformed quote throws a DockerfileError.
 */
export function parseHeredocWord(src: string): Omit<Heredoc, "content"> | undefined {
  try {
    return heredocWord(src);
  } catch (e) {
    if (e instanceof ParseProblem)
      throw new DockerfileError(e.code, e.message, { file: "<heredoc>", line: 0, column: 0 });
    throw e;
  }
}

function heredocWord(src: string): Omit<Heredoc, "content"> | undefined {
  let i = 0;
  while (i < src.length && src.charCodeAt(i) >= 0x30 && src.charCodeAt(i) <= 0x39) i++;
  const digits = src.slice(0, i);
  if (!src.startsWith("<<", i)) return undefined;
  i += 2;
  const chomp = src.charCodeAt(i) === 0x2d;
  if (chomp) i++;
  const rest = src.slice(i);
  if (rest.includes("<") || rest.length === 0) return undefined;
  let words: string[];
  let raw: string[];
  try {
    words = lexWords(rest, false, false);
    if (words.length !== 1) return undefined;
    raw = lexWords(rest, true, false);
  } catch (e) {
    throw new ParseProblem("INVALID_HEREDOC", `invalid heredoc ${src}: ${(e as Error).message}`, src);
  }
  if (raw.length !== words.length) {
    throw new ParseProblem(
      "INVALID_HEREDOC",
      `internal lexing of heredoc produced inconsistent results: ${rest}`,
      src,
    );
  }
  const name = words[0]!;
  const fd = digits === "" ? 0 : Number(digits);
  return {
    name,
    fileDescriptor: Number.isSafeInteger(fd) ? fd : 0,
    expand: countQuotes(name) === countQuotes(raw[0]!),
    chomp,
  };
}

/** heredocsFromLine lists the heredoc openers of a logical line, in order (quoted `"<<EOF"` is not one). */
export function heredocsFromLine(line: string): Omit<Heredoc, "content">[] {
  try {
    return openersFromLine(line);
  } catch (e) {
    if (e instanceof ParseProblem)
      throw new DockerfileError(e.code, e.message, { file: "<heredoc>", line: 0, column: 0 });
    throw e;
  }
}

/** openersFromLine is heredocsFromLine for the parser: it throws ParseProblem, which the parser locates. */
export function openersFromLine(line: string): Omit<Heredoc, "content">[] {
  // no `<<`, no opener: skip the lexer (its errors would be ignored anyway)
  if (!line.includes("<<")) return [];
  let words: string[];
  try {
    words = lexWords(line, true, true);
  } catch {
    return [];
  }
  const docs: Omit<Heredoc, "content">[] = [];
  for (const w of words) {
    const h = heredocWord(w);
    if (h) docs.push(h);
  }
  return docs;
}

/** chompHeredocContent strips the leading tabs of every line, as `<<-` asks. */
export function chompHeredocContent(content: string): string {
  return content
    .split("\n")
    .map((l) => {
      let i = 0;
      while (l.charCodeAt(i) === 0x09) i++;
      return l.slice(i);
    })
    .join("\n");
}
