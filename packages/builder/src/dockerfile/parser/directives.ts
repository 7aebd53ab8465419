import type { Directive } from "./ast.js";

/** DIRECTIVE_NAMES are the parser directives BuildKit knows; any other `# key=value` ends the block. */
export const DIRECTIVE_NAMES = ["syntax", "escape", "check"] as const;

const isGoSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
const isAlpha = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isAlnum = (c: number) => isAlpha(c) || (c >= 0x30 && c <= 0x39);

/**
 * matchDirectiveLine recognises `#  name = value` (the reference regexp
 * `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`) without a regexp, in linear time.
 * Returns the name as written and the trimmed value.
 */
export function matchDirectiveLine(line: string, prefix = "#"): { name: string; value: string } | undefined {
  if (!line.startsWith(prefix)) return undefined;
  let i = prefix.length;
  while (i < line.length && isGoSpace(line.charCodeAt(i))) i++;
  const nameStart = i;
  if (i >= line.length || !isAlpha(line.charCodeAt(i))) return undefined;
  while (i < line.length && isAlnum(line.charCodeAt(i))) i++;
  const name = line.slice(nameStart, i);
  while (i < line.length && isGoSpace(line.charCodeAt(i))) i++;
  if (line.charCodeAt(i) !== 0x3d) return undefined;
  const rest = line.slice(i + 1);
  if (rest.length === 0) return undefined;
  let a = 0;
  while (a < rest.length && isGoSpace(rest.charCodeAt(a))) a++;
  let b = rest.length;
  while (b > a && isGoSpace(rest.charCodeAt(b - 1))) b--;
  // an all-blank value still matches `.+?`: the regexp hands it the last blank character
  const value = a < b ? rest.slice(a, b) : rest.slice(rest.length - 1);
  return { name, value };
}

/** DirectiveProblem is a problem with a directive line; the parser turns it into a DockerfileError. */
export interface DirectiveProblem {
  message: string;
}

/**
 * DirectiveScanner follows the directive block at the top of a Dockerfile: every line is fed in order
 * until the first line that is not a known directive (a `#!` shebang on line 1 is skipped).
 */
export class DirectiveScanner {
  readonly directives: Directive[] = [];
  escapeToken: "\\" | "`" = "\\";
  private done = false;
  private readonly prefix: string;

  constructor(options: { prefix?: string } = {}) {
    this.prefix = options.prefix ?? "#";
  }

  get finished(): boolean {
    return this.done;
  }

  /** feed looks at one line (1-based `lineNo`); it returns a problem for a repeated or invalid directive. */
  feed(line: string, lineNo: number): DirectiveProblem | undefined {
    if (this.done) return undefined;
    if (lineNo === 1 && line.startsWith("#!")) return undefined;
    const m = matchDirectiveLine(line, this.prefix);
    const name = m?.name.toLowerCase();
    if (!m || (name !== "syntax" && name !== "escape" && name !== "check")) {
      this.done = true;
      return undefined;
    }
    if (this.directives.some((d) => d.name === name)) {
      return { message: `only one ${name} parser directive can be used` };
    }
    if (name === "escape") {
      if (m.value !== "`" && m.value !== "\\") {
        return { message: `invalid escape token '${m.value}' does not match \` or \\` };
      }
      this.escapeToken = m.value;
    }
    this.directives.push({ name, value: m.value, line: lineNo });
    return undefined;
  }
}

/** parseDirectives scans the directive block of `text` (lines split at `\n`) and returns it. */
export function parseDirectives(text: string, options: { prefix?: string } = {}): Directive[] {
  const scanner = new DirectiveScanner(options);
  const lines = text.split("\n");
  for (let i = 0; i < lines.length && !scanner.finished; i++) {
    const problem = scanner.feed(lines[i]!, i + 1);
    if (problem) throw new Error(problem.message);
  }
  return scanner.directives;
}

/** DetectedDirective is the answer of detectSyntax / findDirective. */
export interface DetectedDirective {
  /** ref is the value up to the first space (`docker/dockerfile:1`). */
  ref: string;
  /** cmdline is the whole value. */
  cmdline: string;
  /** line is 1-based. */
  line: number;
}

function stripBomAndShebang(text: string): { body: string; offset: number } {
  let body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  let offset = 0;
  if (body.startsWith("#!")) {
    const nl = body.indexOf("\n");
    body = nl < 0 ? "" : body.slice(nl + 1);
    offset = 1;
  }
  return { body, offset };
}

function fromScanner(
  key: string,
  body: string,
  offset: number,
  prefix: string,
): DetectedDirective | undefined {
  const scanner = new DirectiveScanner({ prefix });
  const lines = body.split("\n");
  for (let i = 0; i < lines.length && !scanner.finished; i++) {
    if (scanner.feed(lines[i]!, i + 1 + offset)) break;
  }
  const d = scanner.directives.find((x) => x.name === key);
  if (!d) return undefined;
  const sp = d.value.indexOf(" ");
  return { ref: sp < 0 ? d.value : d.value.slice(0, sp), cmdline: d.value, line: d.line };
}

/**
 * findDirective looks for directive `key` in the `#` form only (BuildKit ParseDirective), after an
 * optional BOM and `#!` line.
 */
export function findDirective(key: string, text: string): DetectedDirective | undefined {
  const { body, offset } = stripBomAndShebang(text);
  return fromScanner(key, body, offset, "#");
}

/**
 * detectSyntax finds the frontend reference like BuildKit DetectSyntax: `# syntax=`, then `//syntax=`,
 * then the whole text as a JSON object `{"syntax": "..."}`.
 */
export function detectSyntax(text: string): DetectedDirective | undefined {
  const { body, offset } = stripBomAndShebang(text);
  const found = fromScanner("syntax", body, offset, "#") ?? fromScanner("syntax", body, offset, "//");
  if (found) return found;
  try {
    const obj: unknown = JSON.parse(body);
    if (obj && typeof obj === "object" && !Array.isArray(obj)) {
      const v = (obj as Record<string, unknown>).syntax;
      if (typeof v === "string") {
        const sp = v.indexOf(" ");
        return { ref: sp < 0 ? v : v.slice(0, sp), cmdline: v, line: offset + 1 };
      }
    }
  } catch {
    // not JSON: no syntax directive
  }
  return undefined;
}
