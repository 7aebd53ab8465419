const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "\u00b5s": 1e3,
  "\u03bcs": 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * parseGoDuration is Go's time.ParseDuration (`30s`, `1m30s`, `1.5h`, `-2ms`, `0`), returning
 * nanoseconds, or undefined when the text is not a duration. HEALTHCHECK flags use this syntax.
 */
export function parseGoDuration(text: string): number | undefined {
  const r = goParseDuration(text);
  return typeof r === "number" ? r : undefined;
}

/** goDurationError is the error Go's time.ParseDuration gives for text that is not a duration. */
export function goDurationError(text: string): string {
  const r = goParseDuration(text);
  return typeof r === "string" ? r : "";
}

/** goParseDuration mirrors time.ParseDuration: nanoseconds, or Go's error text. */
function goParseDuration(text: string): number | string {
  const q = JSON.stringify(text);
  const invalid = `time: invalid duration ${q}`;
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") return invalid;
  let total = 0;
  while (s !== "") {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    const whole = m[1] ?? "";
    const frac = m[2];
    if (whole === "" && (frac === undefined || frac === "")) return invalid;
    s = s.slice(m[0].length);
    let u = 0;
    while (u < s.length && !/[0-9.]/.test(s[u]!)) u++;
    if (u === 0) return `time: missing unit in duration ${q}`;
    const unit = s.slice(0, u);
    s = s.slice(u);
    const scale = UNIT_NS[unit];
    if (scale === undefined) return `time: unknown unit ${JSON.stringify(unit)} in duration ${q}`;
    total += Number(whole || "0") * scale;
    if (frac) total += Math.floor(Number(`0.${frac}`) * scale + 1e-9);
    if (total > 2 ** 63) return invalid;
  }
  return sign * total;
}

/** formatGoDuration prints nanoseconds the way Go's Duration.String does for whole units (`1m30s`, `500ms`). */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let v = Math.abs(ns);
  let out = "";
  if (v < 1e9) {
    if (v >= 1e6) out = `${v / 1e6}ms`;
    else if (v >= 1e3) out = `${v / 1e3}\u00b5s`;
    else out = `${v}ns`;
  } else {
    const h = Math.floor(v / 3600e9);
    v -= h * 3600e9;
    const m = Math.floor(v / 60e9);
    v -= m * 60e9;
    if (h > 0) out += `${h}h`;
    if (h > 0 || m > 0) out += `${m}m`;
    out += `${v / 1e9}s`;
  }
  return neg ? `-${out}` : out;
}
