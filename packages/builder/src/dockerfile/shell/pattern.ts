/**
 * Shell patterns for `${VAR#pat}`, `${VAR%pat}` and `${VAR/pat/repl}`: `*` and
 * `?` are wildcards, `\` escapes `*`, `?` and `\` (and is dropped before `}`
 * and `/`), everything else is literal. There are no bracket expressions. The
 * matching rules copy BuildKit's (a Go regexp under the hood), including Go's
 * quirks in `ReplaceAllString`, so results agree character for character.
 */

/** PatternError says a substitution pattern is malformed; the lexer turns it into a DockerfileError. */
export class PatternError extends Error {
  override readonly name = "PatternError";
}

const REGEX_SPECIALS = new Set(["[", "]", "{", "}", ".", "+", "(", ")", "|", "^", "$"]);
/** ANY is Go's `.`: any character except a newline. */
const ANY = "[^\\n]";

/** shellPatternToRegExp converts a pattern; `greedy` picks longest `*` matches, `anchored` pins it to the start. */
export function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? "^" : "";
  const star = greedy ? `${ANY}*` : `${ANY}*?`;
  for (let i = 0; i < chars.length; i++) {
    let tok = chars[i]!;
    if (tok === "*") {
      out += star;
      continue;
    }
    if (tok === "?") {
      out += ANY;
      continue;
    }
    if (tok === "\\") {
      const peek = chars[i + 1];
      if (peek === "}" || peek === "/") continue;
      i++;
      const escaped = chars[i];
      if (escaped !== "*" && escaped !== "?" && escaped !== "\\") {
        throw new PatternError(`invalid escape '\\${escaped ?? ""}'`);
      }
      tok = escaped;
      out += "\\";
    } else if (REGEX_SPECIALS.has(tok)) {
      out += "\\";
    }
    out += tok;
  }
  return new RegExp(out, "u");
}

function invalid(pattern: string, err: unknown): never {
  if (err instanceof PatternError) {
    throw new PatternError(`invalid pattern (${pattern}) in substitution: ${err.message}`);
  }
  throw err;
}

/** trimPrefix implements `${v#pat}` (shortest) and `${v##pat}` (greedy). */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  let re: RegExp;
  try {
    re = shellPatternToRegExp(pattern, greedy, true);
  } catch (err) {
    invalid(pattern, err);
  }
  const m = re.exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

/** reversePattern reverses a pattern but keeps each escape before the character it escapes (`a\*c` → `c\*a`). */
export function reversePattern(pattern: string): string {
  const runes = Array.from(pattern);
  const out: string[] = new Array(runes.length);
  const last = runes.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = runes[i]!;
    const outIdx = last - i;
    if (tok === "\\" && i !== last) {
      out[outIdx - 1] = tok;
      out[outIdx] = runes[i + 1]!;
      i += 2;
    } else {
      out[outIdx] = tok;
      i++;
    }
  }
  return out.join("");
}

function reverseString(s: string): string {
  return Array.from(s).reverse().join("");
}

/**
 * trimSuffix implements `${v%pat}` and `${v%%pat}`. A regexp cannot find the
 * shortest rightmost match, so both the value and the pattern are reversed
 * and the prefix rule applies, as BuildKit does.
 */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/** replace implements `${v/pat/repl}` (first match, replacement taken literally) and `${v//pat/repl}`. */
export function replace(pattern: string, value: string, replacement: string, all: boolean): string {
  let re: RegExp;
  try {
    re = shellPatternToRegExp(pattern, true, false);
  } catch (err) {
    invalid(pattern, err);
  }
  if (!all) {
    const m = re.exec(value);
    return m ? value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length) : value;
  }
  return goReplaceAll(new RegExp(re.source, "gu"), value, replacement);
}

/**
 * goReplaceAll is Go's `Regexp.ReplaceAllString`: an empty match right after
 * the previous match is not replaced, and the replacement is a template in
 * which `$0` is the match, `$$` is `$`, and other `$name`/`${name}` are empty.
 */
function goReplaceAll(re: RegExp, src: string, template: string): string {
  let out = "";
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    re.lastIndex = searchPos;
    const m = re.exec(src);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += src.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expandTemplate(template, m[0]);
    lastMatchEnd = end;
    const cp = src.codePointAt(searchPos);
    const width = cp === undefined ? 1 : cp > 0xffff ? 2 : 1;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + src.slice(lastMatchEnd);
}

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;

function expandTemplate(template: string, whole: string): string {
  let out = "";
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf("$");
    if (dollar < 0) break;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith("$")) {
      out += "$";
      rest = rest.slice(1);
      continue;
    }
    const ref = extractName(rest);
    if (!ref) {
      out += "$";
      continue;
    }
    rest = ref.rest;
    if (ref.name === "0") out += whole;
  }
  return out + rest;
}

function extractName(str: string): { name: string; rest: string } | undefined {
  const brace = str.startsWith("{");
  const body = brace ? str.slice(1) : str;
  let i = 0;
  for (const ch of body) {
    if (!NAME_CHAR.test(ch)) break;
    i += ch.length;
  }
  if (i === 0) return undefined;
  const name = body.slice(0, i);
  if (brace) {
    if (body[i] !== "}") return undefined;
    i++;
  }
  return { name, rest: body.slice(i) };
}
