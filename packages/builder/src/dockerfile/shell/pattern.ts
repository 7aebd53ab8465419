/**
 * Shell patterns for `${VAR#pat}`, `${VAR%pat}` and `${VAR/pat/repl}`: `*` and `?` are wildcards (never
 * matching a newline, as Go's `.`), `\` escapes `*`, `?` and `\` (and is dropped before `}` and `/`),
 * everything else is literal; there are no bracket expressions. BuildKit compiles these to a Go (RE2)
 * regexp, which runs in linear time; a JS RegExp would backtrack exponentially on patterns such as
 * `*a*a*a*b`, so the patterns run on a small NFA simulation here instead, with the same results:
 * anchored shortest/longest prefix matches, and leftmost-longest search for replacements.
 */

/** PatternError says a substitution pattern is malformed; the lexer turns it into a ShellExpansionError. */
export class PatternError extends Error {
  override readonly name = "PatternError";
}

/** Token is one pattern element: a literal character, `?` (any one character) or `*` (any run). */
type Token = { lit: string } | "any" | "star";

/** compilePattern parses a pattern into tokens, merging runs of `*`. */
export function compilePattern(pattern: string): Token[] {
  const chars = Array.from(pattern);
  const out: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === "*") {
      if (out[out.length - 1] !== "star") out.push("star");
    } else if (c === "?") {
      out.push("any");
    } else if (c === "\\") {
      const next = chars[i + 1];
      if (next === "}" || next === "/") continue;
      if (next !== "*" && next !== "?" && next !== "\\")
        throw new PatternError(`invalid escape '\\${next ?? ""}'`);
      out.push({ lit: next });
      i++;
    } else {
      out.push({ lit: c });
    }
  }
  return out;
}

/** Matcher simulates the pattern's NFA: state i means "token i is next"; tokens.length is accept. */
class Matcher {
  constructor(private readonly tokens: Token[]) {}

  get accept(): number {
    return this.tokens.length;
  }

  /** close adds the states reachable without input (a `*` may match nothing). */
  close(states: Set<number>): Set<number> {
    for (const s of [...states]) {
      let i = s;
      while (this.tokens[i] === "star") states.add(++i);
    }
    return states;
  }

  /** step returns the states after reading `ch`. */
  step(states: ReadonlySet<number>, ch: string): Set<number> {
    const next = new Set<number>();
    for (const s of states) {
      const t = this.tokens[s];
      if (t === undefined) continue;
      if (t === "star") {
        if (ch !== "\n") next.add(s);
      } else if (t === "any") {
        if (ch !== "\n") next.add(s + 1);
      } else if (t.lit === ch) {
        next.add(s + 1);
      }
    }
    return this.close(next);
  }
}

function invalid(pattern: string, err: unknown): never {
  if (err instanceof PatternError) {
    throw new PatternError(`invalid pattern (${pattern}) in substitution: ${err.message}`);
  }
  throw err;
}

function compileOrThrow(pattern: string): Matcher {
  try {
    return new Matcher(compilePattern(pattern));
  } catch (err) {
    invalid(pattern, err);
  }
}

/** prefixMatchLength returns how many code units of `value` the pattern matches from the start (shortest or longest). */
function prefixMatchLength(m: Matcher, value: string, longest: boolean): number | undefined {
  let states = m.close(new Set([0]));
  let found = states.has(m.accept) ? 0 : undefined;
  if (found !== undefined && !longest) return 0;
  let offset = 0;
  for (const ch of value) {
    states = m.step(states, ch);
    offset += ch.length;
    if (states.size === 0) break;
    if (states.has(m.accept)) {
      found = offset;
      if (!longest) return found;
    }
  }
  return found;
}

/** trimPrefix implements `${v#pat}` (shortest) and `${v##pat}` (greedy). */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const n = prefixMatchLength(compileOrThrow(pattern), value, greedy);
  return n === undefined ? value : value.slice(n);
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
 * trimSuffix implements `${v%pat}` and `${v%%pat}`: as BuildKit does, the value and the pattern are
 * reversed so the suffix becomes a prefix.
 */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/**
 * search finds the leftmost match at or after `from`, and the longest one at that start (which is what
 * Go's leftmost-first search returns for these patterns, whose stars are greedy). Threads are kept per
 * NFA state with their earliest start, so the search is linear in the input.
 */
function search(m: Matcher, value: string, from: number): [number, number] | undefined {
  let threads = new Map<number, number>();
  let best: [number, number] | undefined;
  const addStart = (pos: number) => {
    for (const s of m.close(new Set([0]))) if (!threads.has(s)) threads.set(s, pos);
  };
  const checkAccept = (pos: number) => {
    const start = threads.get(m.accept);
    if (start === undefined) return;
    if (!best || start < best[0] || (start === best[0] && pos > best[1])) best = [start, pos];
  };
  let pos = from;
  if (!best) addStart(pos);
  checkAccept(pos);
  while (pos < value.length) {
    const cp = value.codePointAt(pos)!;
    const ch = String.fromCodePoint(cp);
    const next = new Map<number, number>();
    for (const [s, start] of threads) {
      if (best && start > best[0]) continue;
      for (const t of m.step(new Set([s]), ch)) {
        const cur = next.get(t);
        if (cur === undefined || start < cur) next.set(t, start);
      }
    }
    pos += ch.length;
    threads = next;
    if (!best) addStart(pos);
    checkAccept(pos);
    if (threads.size === 0) break;
    if (best && ![...threads.values()].some((s) => s <= best![0])) break;
  }
  return best;
}

/** replace implements `${v/pat/repl}` (first match, replacement taken literally) and `${v//pat/repl}`. */
export function replace(pattern: string, value: string, replacement: string, all: boolean): string {
  const m = compileOrThrow(pattern);
  if (!all) {
    const found = search(m, value, 0);
    return found ? value.slice(0, found[0]) + replacement + value.slice(found[1]) : value;
  }
  return goReplaceAll(m, value, replacement);
}

/**
 * goReplaceAll is Go's `Regexp.ReplaceAllString`: an empty match right after the previous match is not
 * replaced, and the replacement is a template in which `$0` is the match, `$$` is `$`, and other
 * `$name`/`${name}` are empty (the pattern has no groups).
 */
function goReplaceAll(m: Matcher, src: string, template: string): string {
  let out = "";
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    const found = search(m, src, searchPos);
    if (!found) break;
    const [start, end] = found;
    out += src.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expandTemplate(template, src.slice(start, end));
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
