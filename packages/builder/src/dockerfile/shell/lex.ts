// biome-ignore-all lint/suspicious/noTemplateCurlyInString: messages quote Dockerfile `${}` syntax
import { BuildError } from "../../errors.js";
import type { EnvGetter } from "./env.js";
import { PatternError, replace, trimPrefix, trimSuffix } from "./pattern.js";

/**
 * ShellLexOptions mirror the switches of BuildKit's `shell.Lex`.
 * `rawQuotes` keeps quote characters in the output, `rawEscapes` keeps escape
 * characters, `skipProcessQuotes` treats quotes as ordinary characters, and
 * `skipUnsetEnv` leaves references to unset variables as written.
 */
export interface ShellLexOptions {
  escapeToken?: string;
  rawQuotes?: boolean;
  rawEscapes?: boolean;
  skipProcessQuotes?: boolean;
  skipUnsetEnv?: boolean;
}

/** ExpansionResult is one expansion: the word, its split fields, and which variables were looked up. */
export interface ExpansionResult {
  result: string;
  words: string[];
  /** matched names the variables that were set (even if empty). */
  matched: Set<string>;
  /** unmatched names the variables that were referenced but unset (input for the UndefinedVar check). */
  unmatched: Set<string>;
}

/**
 * ShellExpansionError is thrown for a malformed word or a failed `${VAR?msg}`; the message matches
 * BuildKit's. It has no position: the plan rethrows it as a DockerfileError at the instruction.
 */
export class ShellExpansionError extends BuildError {
  override readonly name = "ShellExpansionError";
  constructor(message: string) {
    super("INVALID_SUBSTITUTION", message);
  }
}

const SPACE = /^\p{White_Space}$/u;
const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;

// ASCII fast paths first: these run once per character of every expanded word.
const isSpace = (ch: string) => ch === " " || (ch >= "\t" && ch <= "\r") || (ch > "\x7f" && SPACE.test(ch));
const isDigit = (ch: string) => (ch >= "0" && ch <= "9") || (ch > "\x7f" && DIGIT.test(ch));
const isNameChar = (ch: string) =>
  (ch >= "a" && ch <= "z") ||
  (ch >= "A" && ch <= "Z") ||
  (ch >= "0" && ch <= "9") ||
  ch === "_" ||
  (ch > "\x7f" && (LETTER.test(ch) || DIGIT.test(ch)));
const isSpecialParam = (ch: string) => "@*#?-$!0".includes(ch);

/**
 * ShellLex performs Dockerfile word expansion with BuildKit's shell-lexer
 * semantics: `$VAR`, `${VAR}` and its modifiers, single and double quotes,
 * and the active escape character (`\` or a backtick). It never runs a
 * shell; RUN/CMD/ENTRYPOINT shell strings are left to the real shell.
 */
export class ShellLex {
  readonly escapeToken: string;
  readonly rawQuotes: boolean;
  readonly rawEscapes: boolean;
  readonly skipProcessQuotes: boolean;
  readonly skipUnsetEnv: boolean;

  constructor(options: ShellLexOptions = {}) {
    this.escapeToken = options.escapeToken ?? "\\";
    this.rawQuotes = options.rawQuotes ?? false;
    this.rawEscapes = options.rawEscapes ?? false;
    this.skipProcessQuotes = options.skipProcessQuotes ?? false;
    this.skipUnsetEnv = options.skipUnsetEnv ?? false;
  }

  /** processWord expands a word without splitting it (used by most instructions). */
  processWord(word: string, env: EnvGetter): string {
    return this.process(word, env).result;
  }

  /** processWords expands a word and splits it into fields as sh would; quoted text never splits. */
  processWords(word: string, env: EnvGetter): string[] {
    return this.process(word, env).words;
  }

  /** processWordWithMatches expands a word and reports which variables were found and which were not. */
  processWordWithMatches(word: string, env: EnvGetter): ExpansionResult {
    return this.process(word, env);
  }

  private process(word: string, env: EnvGetter): ExpansionResult {
    const state = new WordState(this, word, env);
    try {
      const { result, words } = state.processStopOn(undefined, this.rawEscapes);
      return { result, words, matched: state.matches, unmatched: state.nonmatches };
    } catch (err) {
      if (err instanceof ShellExpansionError || err instanceof PatternError) {
        throw new ShellExpansionError(`failed to process ${JSON.stringify(word)}: ${err.message}`);
      }
      throw err;
    }
  }
}

/** Words accumulates sh-style fields: unquoted whitespace ends a field, quoted text is kept whole. */
class Words {
  private word = "";
  private inWord = false;
  readonly words: string[] = [];

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length !== 0) {
        this.words.push(this.word);
        this.word = "";
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }

  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRawString(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = "";
      this.inWord = false;
    }
    return this.words;
  }
}

class WordState {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  readonly matches = new Set<string>();
  readonly nonmatches = new Set<string>();

  constructor(
    private readonly lex: ShellLex,
    word: string,
    private readonly env: EnvGetter,
  ) {
    this.chars = Array.from(word);
    this.rawEscapes = lex.rawEscapes;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    const ch = this.chars[this.pos];
    if (ch !== undefined) this.pos++;
    return ch;
  }

  /** processStopOn reads until `stop` (consumed) or the end of input when `stop` is undefined. */
  processStopOn(stop: string | undefined, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.scan(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private scan(stop: string | undefined): { result: string; words: string[] } {
    let result = "";
    const words = new Words();
    const quotes = !this.lex.skipProcessQuotes;
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (stop !== undefined && ch === stop) {
        this.next();
        return { result, words: words.finish() };
      }
      if (ch === "$") {
        const value = this.processDollar();
        result += value;
        words.addString(value);
      } else if (quotes && ch === "'") {
        const value = this.processSingleQuote();
        result += value;
        words.addRawString(value);
      } else if (quotes && ch === '"') {
        const value = this.processDoubleQuote();
        result += value;
        words.addRawString(value);
      } else {
        let c = this.next()!;
        if (c === this.lex.escapeToken) {
          if (this.rawEscapes) {
            words.addRawChar(c);
            result += c;
          }
          const escaped = this.next();
          if (escaped === undefined) break;
          c = escaped;
          words.addRawChar(c);
        } else {
          words.addChar(c);
        }
        result += c;
      }
    }
    if (stop !== undefined) {
      throw new ShellExpansionError(`unexpected end of statement while looking for matching ${stop}`);
    }
    return { result, words: words.finish() };
  }

  private processSingleQuote(): string {
    let result = "";
    const open = this.next()!;
    if (this.lex.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === undefined) {
        throw new ShellExpansionError("unexpected end of statement while looking for matching single-quote");
      }
      if (ch === "'") {
        if (this.lex.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    let result = "";
    const open = this.next()!;
    if (this.lex.rawQuotes) result += open;
    for (;;) {
      const peek = this.peek();
      if (peek === undefined) {
        throw new ShellExpansionError("unexpected end of statement while looking for matching double-quote");
      }
      if (peek === '"') {
        this.next();
        if (this.lex.rawQuotes) result += peek;
        return result;
      }
      if (peek === "$") {
        result += this.processDollar();
        continue;
      }
      let ch = this.next()!;
      if (ch === this.lex.escapeToken) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === undefined) continue;
        if (after === '"' || after === "$" || after === this.lex.escapeToken) ch = this.next()!;
      }
      result += ch;
    }
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== "{") {
      const name = this.processName();
      if (name === "") return "$";
      const value = this.getEnv(name);
      if (value === undefined && this.lex.skipUnsetEnv) return `$${name}`;
      return value ?? "";
    }
    this.next();
    const first = this.peek();
    if (first === undefined) throw new ShellExpansionError("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") {
      throw new ShellExpansionError("syntax error: bad substitution");
    }
    const name = this.processName();
    let ch = this.next();
    // Go renders a missing character (EOF) as U+FFFD in the message.
    let chs = ch ?? "\uFFFD";
    if (ch === "}") {
      const value = this.getEnv(name);
      if (value === undefined && this.lex.skipUnsetEnv) return `\${${name}}`;
      return value ?? "";
    }
    if (ch === "/") return this.processReplace(name);
    let nullIsUnset = false;
    if (ch === ":") {
      nullIsUnset = true;
      ch = this.next();
      chs += ch ?? "\uFFFD";
    } else if (ch === undefined || !"+-?#%".includes(ch)) {
      throw new ShellExpansionError(`unsupported modifier (${chs}) in substitution`);
    }
    const trims = ch === "#" || ch === "%";
    if (nullIsUnset && trims) throw new ShellExpansionError(`unsupported modifier (${chs}) in substitution`);
    let word: string;
    try {
      word = this.processStopOn("}", trims).result;
    } catch (err) {
      if (this.peek() === undefined) throw new ShellExpansionError("syntax error: missing '}'");
      throw err;
    }
    const value = this.getEnv(name);
    if (this.lex.skipUnsetEnv && value === undefined) return `\${${name}${chs}${word}}`;
    const empty = value === undefined || (nullIsUnset && value === "");
    switch (ch) {
      case "-":
        return empty ? word : value!;
      case "+":
        return empty ? "" : word;
      case "?":
        if (value === undefined) {
          throw new ShellExpansionError(`${name}: ${word !== "" ? word : "is not allowed to be unset"}`);
        }
        if (nullIsUnset && value === "") {
          throw new ShellExpansionError(`${name}: ${word !== "" ? word : "is not allowed to be empty"}`);
        }
        return value;
      case "#":
      case "%": {
        const greedy = word.startsWith(ch);
        const pattern = greedy ? word.slice(1) : word;
        return ch === "%"
          ? trimSuffix(pattern, value ?? "", greedy)
          : trimPrefix(pattern, value ?? "", greedy);
      }
      default:
        throw new ShellExpansionError(`unsupported modifier (${chs}) in substitution`);
    }
  }

  private processReplace(name: string): string {
    const all = this.peek() === "/";
    if (all) this.next();
    let pattern: string;
    try {
      pattern = this.processStopOn("/", true).result;
    } catch (err) {
      if (this.peek() === undefined) throw new ShellExpansionError(`syntax error: missing '/' in $\{}`);
      throw err;
    }
    let replacement: string;
    try {
      replacement = this.processStopOn("}", true).result;
    } catch (err) {
      if (this.peek() === undefined) throw new ShellExpansionError("syntax error: missing '}'");
      throw err;
    }
    const value = this.getEnv(name);
    if (this.lex.skipUnsetEnv && value === undefined) return `\${${name}/${pattern}/${replacement}}`;
    return replace(pattern, value ?? "", replacement, all);
  }

  /** processName reads a variable name: letters, digits and `_`; all digits for a positional; one special char. */
  private processName(): string {
    let name = "";
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === "" && isDigit(ch)) {
        for (let d = this.peek(); d !== undefined && isDigit(d); d = this.peek()) name += this.next();
        return name;
      }
      if (name === "" && isSpecialParam(ch)) {
        this.next();
        return ch;
      }
      if (!isNameChar(ch)) break;
      name += this.next();
    }
    return name;
  }

  private getEnv(name: string): string | undefined {
    const value = this.env.get(name);
    if (value === undefined) this.nonmatches.add(name);
    else this.matches.add(name);
    return value;
  }
}
