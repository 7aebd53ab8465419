/**
 * challenge.ts parses `WWW-Authenticate` headers (RFC 7235): one or more
 * challenges, each a scheme followed by either a token68 or comma-separated
 * `name=value` parameters whose values may be quoted strings containing
 * commas, `=` and backslash escapes. Registries put the token realm, service
 * and scope there.
 */

/** Challenge is one parsed challenge; `scheme` and parameter names are lowercased. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
  token68?: string;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*(?=[ \t]*(?:,|$))/;

/** parseChallenges parses a header value (or several, as an array) into its challenges, in order. */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  if (Array.isArray(header)) return header.flatMap((h) => parseChallenges(h));
  const s = header;
  let i = 0;
  const out: Challenge[] = [];

  const skipWs = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  };
  const skipSeparators = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t" || s[i] === ",")) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && TOKEN_CHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    i++; // opening quote
    let v = "";
    while (i < s.length && s[i] !== '"') {
      if (s[i] === "\\" && i + 1 < s.length) i++;
      v += s[i];
      i++;
    }
    if (i < s.length) i++; // closing quote
    return v;
  };
  /** atParam says whether `token =` starts at i (a parameter rather than a new scheme). */
  const atParam = (): boolean => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t]*=/.test(s.slice(i));

  while (i < s.length) {
    skipSeparators();
    if (i >= s.length) break;
    const scheme = readToken();
    if (!scheme) {
      i++; // a stray character: skip it rather than loop forever
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    if (s[i] !== " " && s[i] !== "\t") continue; // scheme alone
    skipWs();
    const t68 = TOKEN68.exec(s.slice(i));
    if (t68 && !atParamWithValue(s.slice(i))) {
      challenge.token68 = t68[0];
      i += t68[0].length;
      continue;
    }
    while (i < s.length && atParam()) {
      const name = readToken().toLowerCase();
      skipWs();
      i++; // '='
      skipWs();
      let value: string;
      if (s[i] === '"') value = readQuoted();
      else {
        const start = i;
        while (i < s.length && s[i] !== "," && s[i] !== " " && s[i] !== "\t") i++;
        value = s.slice(start, i);
      }
      challenge.params[name] = value;
      skipSeparators();
    }
  }
  return out;
}

/** atParamWithValue distinguishes `realm=x` (a parameter) from `abc==` (a token68). */
function atParamWithValue(rest: string): boolean {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t]*=[ \t]*[^=, \t]/.test(rest);
}

/** pickChallenge chooses what to answer: Bearer over Basic over nothing. */
export function pickChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic");
}
