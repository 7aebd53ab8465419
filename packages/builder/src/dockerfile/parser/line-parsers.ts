import { isSpace, splitWordSpace, splitWordSpaceOnce, trimLeftSpace } from "./chars.js";
import { ParseProblem } from "./problem.js";
import { goQuote } from "./quote.js";

/** ArgNodes is what a line parser makes of the text after the flags. */
export interface ArgNodes {
  args: string[];
  json: boolean;
}

const NONE: ArgNodes = { args: [], json: false };

enum Phase {
  Spaces,
  Word,
  Quote,
}

/**
 * parseWords splits ARG/ENV/LABEL arguments on whitespace, honouring quotes and the escape token but
 * KEEPING them in the words: the word expander removes them later.
 */
export function parseWords(rest: string, escapeToken: string): string[] {
  const words: string[] = [];
  const esc = escapeToken.codePointAt(0)!;
  let phase = Phase.Spaces;
  let quote = 0;
  let blankOK = false;
  let word = "";
  const n = rest.length;
  let pos = 0;
  while (pos <= n) {
    let ch = pos < n ? rest.codePointAt(pos)! : -1;
    let width = ch > 0xffff ? 2 : 1;
    if (phase === Phase.Spaces) {
      if (pos === n) break;
      if (isSpace(ch)) {
        pos += width;
        continue;
      }
      phase = Phase.Word;
    }
    if (pos === n) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === Phase.Word) {
      if (isSpace(ch)) {
        phase = Phase.Spaces;
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        pos += width;
        continue;
      }
      if (ch === 0x27 || ch === 0x22) {
        quote = ch;
        blankOK = true;
        phase = Phase.Quote;
      }
      if (ch === esc) {
        if (pos + width === n) {
          pos += width;
          continue;
        }
        word += String.fromCodePoint(ch);
        pos += width;
        ch = rest.codePointAt(pos)!;
        width = ch > 0xffff ? 2 : 1;
      }
      word += String.fromCodePoint(ch);
      pos += width;
      continue;
    }
    // Phase.Quote
    if (ch === quote) phase = Phase.Word;
    if (ch === esc && quote !== 0x27) {
      if (pos + width === n) {
        phase = Phase.Word;
        pos += width;
        continue;
      }
      pos += width;
      word += String.fromCodePoint(ch);
      ch = rest.codePointAt(pos)!;
      width = ch > 0xffff ? 2 : 1;
    }
    word += String.fromCodePoint(ch);
    pos += width;
  }
  return words;
}

/**
 * parseNameVal parses ENV/LABEL arguments into `key value sep` triples: sep `=` for `k=v k2=v2`, and
 * `""` for the legacy `KEY value…` form, whose value is the raw rest of the line.
 */
export function parseNameVal(rest: string, key: string, escapeToken: string): string[] {
  const words = parseWords(rest, escapeToken);
  if (words.length === 0) return [];
  if (!words[0]!.includes("=")) {
    const parts = splitWordSpaceOnce(rest);
    if (parts.length < 2) throw new ParseProblem("INVALID_ARGUMENTS", `${key} must have two arguments`);
    return [parts[0], parts[1]!, ""];
  }
  const out: string[] = [];
  for (const word of words) {
    const eq = word.indexOf("=");
    if (eq < 0) {
      throw new ParseProblem(
        "INVALID_ARGUMENTS",
        `Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`,
        word,
      );
    }
    out.push(word.slice(0, eq), word.slice(eq + 1), "=");
  }
  return out;
}

/** parseStringsWhitespaceDelimited splits on `[\t\v\f\r ]+` with no quote handling (FROM, EXPOSE). */
export function parseStringsWhitespaceDelimited(rest: string): ArgNodes {
  if (rest === "") return NONE;
  return { args: splitWordSpace(rest), json: false };
}

/** parseString keeps the whole rest as one node (USER, WORKDIR, MAINTAINER, STOPSIGNAL). */
export function parseString(rest: string): ArgNodes {
  return rest === "" ? NONE : { args: [rest], json: false };
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * parseJSONArray parses `rest` as a JSON array of strings. It returns undefined when the text is not a
 * JSON array at all (the caller falls back to the shell form), and throws when it is valid JSON holding
 * something other than strings.
 */
export function parseJSONArray(rest: string): string[] | undefined {
  const text = trimLeftSpace(rest);
  if (!text.startsWith("[")) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const out: string[] = [];
  for (const v of parsed) {
    if (typeof v !== "string") {
      throw new ParseProblem(
        "INVALID_JSON",
        "when using JSON array syntax, arrays must be comprised of strings only",
      );
    }
    out.push(v.replace(loneSurrogate, "\uFFFD"));
  }
  return out;
}

/** parseMaybeJSON is the RUN/CMD/ENTRYPOINT/SHELL rule: a JSON array, else one node with the whole rest. */
export function parseMaybeJSON(rest: string): ArgNodes {
  if (rest === "") return NONE;
  const arr = parseJSONArray(rest);
  if (arr) return { args: arr, json: true };
  return { args: [rest], json: false };
}

/** parseMaybeJSONToList is the ADD/COPY/VOLUME rule: a JSON array, else whitespace-split words. */
export function parseMaybeJSONToList(rest: string): ArgNodes {
  const arr = parseJSONArray(rest);
  if (arr) return { args: arr, json: true };
  return parseStringsWhitespaceDelimited(rest);
}

/** parseHealthConfig is the HEALTHCHECK rule: the type word (`CMD`, `NONE`), then the CMD rule. */
export function parseHealthConfig(rest: string): ArgNodes {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest.charCodeAt(sep))) sep++;
  let next = sep;
  while (next < rest.length && isSpace(rest.charCodeAt(next))) next++;
  if (sep === 0) return NONE;
  const cmd = parseMaybeJSON(rest.slice(next));
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}
