import { DockerfileError } from "../../errors.js";
import type { Directive, Heredoc, InstructionNode, ParsedDockerfile, ParseWarning } from "./ast.js";
import { isSpace, trimLeftSpace, trimSpace } from "./chars.js";
import { decodeUtf8 } from "./decode.js";
import { DirectiveScanner } from "./directives.js";
import { openersFromLine } from "./heredoc.js";
import {
  type ArgNodes,
  parseHealthConfig,
  parseMaybeJSON,
  parseMaybeJSONToList,
  parseNameVal,
  parseString,
  parseStringsWhitespaceDelimited,
  parseWords,
} from "./line-parsers.js";
import { ParseProblem } from "./problem.js";
import { splitCommand } from "./split-command.js";

/** MAX_LINE_BYTES is the longest physical line the reference scanner reads (bufio.MaxScanTokenSize - 1). */
export const MAX_LINE_BYTES = 65535;

/** ParseOptions name the file in errors and positions. */
export interface ParseOptions {
  /** file is used in error messages and locations; default "Dockerfile". */
  file?: string;
}

type LineParser = (rest: string, escapeToken: string) => ArgNodes;

const nameVal =
  (key: string): LineParser =>
  (rest, esc) => ({ args: parseNameVal(rest, key, esc), json: false });

const DISPATCH: Record<string, LineParser> = {
  add: parseMaybeJSONToList,
  arg: (rest, esc) => ({ args: parseWords(rest, esc), json: false }),
  cmd: parseMaybeJSON,
  copy: parseMaybeJSONToList,
  entrypoint: parseMaybeJSON,
  env: nameVal("ENV"),
  expose: parseStringsWhitespaceDelimited,
  from: parseStringsWhitespaceDelimited,
  healthcheck: parseHealthConfig,
  label: nameVal("LABEL"),
  maintainer: parseString,
  run: parseMaybeJSON,
  shell: parseMaybeJSON,
  stopsignal: parseString,
  user: parseString,
  volume: parseMaybeJSONToList,
  workdir: parseString,
};

const HEREDOC_KEYWORDS = new Set(["run", "copy", "add"]);

/** newNodeFromLine turns one logical line into a node (recursively for ONBUILD). */
function newNodeFromLine(line: string, escapeToken: string, comments: string[]): InstructionNode {
  const { keyword, flags, rest } = splitCommand(line);
  const lower = keyword.toLowerCase();
  const node: InstructionNode = {
    keyword: lower,
    rawKeyword: keyword,
    flags,
    args: [],
    json: false,
    heredocs: [],
    original: line,
    startLine: 0,
    endLine: 0,
    comments,
  };
  if (lower === "onbuild") {
    if (rest !== "") node.sub = newNodeFromLine(rest, escapeToken, []);
    return node;
  }
  const fn = DISPATCH[lower];
  if (!fn) {
    // unknown instructions keep one empty argument node, as the reference does; the typed layer rejects them
    node.args = [""];
    return node;
  }
  const parsed = fn(rest, escapeToken);
  node.args = parsed.args;
  node.json = parsed.json;
  return node;
}

function canContainHeredoc(node: InstructionNode): boolean {
  const target = node.keyword === "onbuild" && node.sub ? node.sub : node;
  return HEREDOC_KEYWORDS.has(target.keyword) && !target.json;
}

function trimNewline(s: string): string {
  let j = s.length;
  while (j > 0 && (s.charCodeAt(j - 1) === 0x0d || s.charCodeAt(j - 1) === 0x0a)) j--;
  return j === s.length ? s : s.slice(0, j);
}

function isComment(s: string): boolean {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return s.charCodeAt(i) === 0x23;
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isSpace(s.charCodeAt(i))) return false;
  return true;
}

/**
 * trimContinuation removes a trailing escape token (and the blanks after it) unless the escape token is
 * itself escaped; the boolean is true when the line does NOT continue.
 */
function trimContinuation(line: string, esc: number): [string, boolean] {
  let j = line.length;
  while (j > 0 && (line.charCodeAt(j - 1) === 0x20 || line.charCodeAt(j - 1) === 0x09)) j--;
  if (j === 0 || line.charCodeAt(j - 1) !== esc) return [line, true];
  if (j === 1) return ["", false];
  if (line.charCodeAt(j - 2) === esc) return [line, true];
  return [line.slice(0, j - 1), false];
}

/** utf8Length counts the bytes `s` came from (an escaped invalid byte, U+DC80..U+DCFF, is one byte). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else if (c >= 0xdc80 && c <= 0xdcff) n += 1;
    else n += 3;
  }
  return n;
}

/** splitLines splits at `\n` like bufio.Scanner: a final newline does not start another line. */
function splitLines(text: string): { lines: string[]; lastHasNewline: boolean } {
  const lines = text.split("\n");
  const lastHasNewline = text.endsWith("\n");
  if (lastHasNewline || text === "") lines.pop();
  return { lines, lastHasNewline };
}

/**
 * parse reads Dockerfile text into instruction nodes, BuildKit-compatible: directives, comments,
 * continuations with the active escape token, heredocs, JSON and shell forms. It runs in time linear
 * in the input and throws only DockerfileError.
 */
export function parse(input: string | Uint8Array, options: ParseOptions = {}): ParsedDockerfile {
  const file = options.file ?? "Dockerfile";
  let text = typeof input === "string" ? input : decodeUtf8(input);
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  const { lines, lastHasNewline } = splitLines(text);
  const n = lines.length;
  const shown: string[] = lines.map(trimNewline);
  const fail = (
    code: DockerfileError["code"],
    message: string,
    line: number,
    endLine = line,
    needle?: string,
  ) => {
    const src = shown[line - 1];
    let column = 0;
    if (needle !== undefined && src !== undefined) {
      for (let l = line; l <= endLine; l++) {
        const at = (shown[l - 1] ?? "").indexOf(needle);
        if (at >= 0) {
          return new DockerfileError(code, message, {
            file,
            line: l,
            column: at + 1,
            sourceLine: shown[l - 1],
            endLine,
          });
        }
      }
    }
    if (src !== undefined) column = src.length - trimLeftSpace(src).length + 1;
    return new DockerfileError(code, message, { file, line, column, sourceLine: src, endLine });
  };
  const checkLength = (i: number) => {
    const l = lines[i]!;
    if (l.length * 3 >= MAX_LINE_BYTES + 1 && utf8Length(l) > MAX_LINE_BYTES) {
      throw fail(
        "LINE_TOO_LONG",
        `dockerfile line greater than max allowed size of ${MAX_LINE_BYTES}`,
        i + 1,
      );
    }
  };

  const scanner = new DirectiveScanner();
  const children: InstructionNode[] = [];
  const warnings: ParseWarning[] = [];
  let comments: string[] = [];
  let i = 0;
  while (i < n) {
    checkLength(i);
    const raw = trimNewline(lines[i]!);
    if (isComment(raw)) {
      const t = trimLeftSpace(raw);
      comments.push(trimSpace(t.slice(1)));
    }
    const token = trimLeftSpace(raw);
    const problem = scanner.feed(token, i + 1);
    if (problem) throw fail("INVALID_DIRECTIVE", problem.message, i + 1);
    i++;
    const startLine = i;
    const esc = scanner.escapeToken.charCodeAt(0);
    let [line, endOfLine] = trimContinuation(token.startsWith("#") ? "" : token, esc);
    if (endOfLine && line === "") continue;

    let hasEmptyContinuationLine = false;
    while (!endOfLine && i < n) {
      checkLength(i);
      const t = trimNewline(lines[i]!);
      const p = scanner.feed(t, i + 1);
      if (p) throw fail("INVALID_DIRECTIVE", p.message, i + 1);
      i++;
      if (isComment(t)) continue;
      if (isBlank(t)) {
        hasEmptyContinuationLine = true;
        continue;
      }
      const [cont, eol] = trimContinuation(t, scanner.escapeToken.charCodeAt(0));
      line += cont;
      endOfLine = eol;
    }
    if (hasEmptyContinuationLine) {
      warnings.push({
        rule: "NoEmptyContinuation",
        short: `Empty continuation line found in: ${line}`,
        detail: "Empty continuation lines will become errors in a future release",
        url: "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/",
        startLine,
        endLine: i,
      });
    }

    let node: InstructionNode;
    try {
      node = newNodeFromLine(line, scanner.escapeToken, comments);
    } catch (e) {
      if (e instanceof ParseProblem) throw fail(e.code, e.message, startLine, i, e.needle);
      throw e;
    }

    if (canContainHeredoc(node)) {
      let openers: Omit<Heredoc, "content">[];
      try {
        openers = openersFromLine(line);
      } catch (e) {
        if (e instanceof ParseProblem) throw fail(e.code, e.message, startLine, i, e.needle);
        throw e;
      }
      for (const h of openers) {
        let content = "";
        let terminated = false;
        while (i < n) {
          checkLength(i);
          const bodyLine = lines[i]!;
          const withNewline = i < n - 1 || lastHasNewline ? `${bodyLine}\n` : bodyLine;
          i++;
          let candidate = trimNewline(bodyLine);
          if (h.chomp) {
            let k = 0;
            while (candidate.charCodeAt(k) === 0x09) k++;
            candidate = candidate.slice(k);
          }
          if (candidate === h.name) {
            terminated = true;
            break;
          }
          content += withNewline;
        }
        if (!terminated) throw fail("UNTERMINATED_HEREDOC", `unterminated heredoc ${h.name}`, startLine, i);
        node.heredocs.push({ ...h, content });
      }
      if (node.sub) node.sub.heredocs = node.heredocs;
    }
    node.startLine = startLine;
    node.endLine = i;
    if (node.sub) {
      node.sub.startLine = startLine;
      node.sub.endLine = i;
    }
    children.push(node);
    comments = [];
  }

  if (children.length === 0) {
    throw new DockerfileError("EMPTY_DOCKERFILE", "file with no instructions", { file, line: 0, column: 0 });
  }
  const directives: Directive[] = scanner.directives;
  return { file, children, directives, escapeToken: scanner.escapeToken, warnings, lines: shown };
}
