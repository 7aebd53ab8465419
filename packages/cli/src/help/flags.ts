import type { Options } from "yargs";

/**
 * flagUsages lays out flags as docker's help does (pflag's FlagUsagesWrapped):
 * sorted by name, `  -t, --tag list` or `      --pull`, a value name after
 * the flag, the descriptions in one column three spaces after the longest,
 * wrapped to `cols`, defaults as ` (default "auto")`.
 */
export function flagUsages(options: ReadonlyMap<string, Options>, cols: number): string {
  const lines: [string, string][] = [];
  for (const [name, opt] of [...options].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (opt.hidden) continue;
    const short = [opt.alias ?? []].flat().find((a) => a.length === 1);
    let left = short ? `  -${short}, --${name}` : `      --${name}`;
    const { varname, usage } = unquoteUsage(opt);
    if (varname) left += ` ${varname}`;
    lines.push([left, usage + defaultText(opt)]);
  }
  // pflag's column: the longest flag, plus its NUL marker and the deliberate off-by-one, plus two spaces.
  const maxlen = Math.max(0, ...lines.map(([left]) => left.length + 1));
  return lines
    .map(
      ([left, usage]) => `${left}${" ".repeat(maxlen - left.length + 2)}${wrap(maxlen + 2, cols, usage)}\n`,
    )
    .join("");
}

/** REPEATABLE is how a repeatable flag's description ends; help shows it as a `list` value instead. */
const REPEATABLE = /, repeatable$/;

/**
 * unquoteUsage is pflag's: a `name` in backquotes in the description is the
 * value's name (shown without quotes), else the value's type as docker names
 * it (string, list, int); a boolean takes none. Choices are listed after the text.
 */
function unquoteUsage(opt: Options): { varname: string; usage: string } {
  let usage = typeof opt.describe === "string" ? opt.describe : (opt.description ?? opt.desc ?? "");
  if (opt.choices !== undefined) {
    const choices = [opt.choices].flat().map((c) => JSON.stringify(String(c)));
    if (!choices.every((c) => usage.includes(c))) usage += ` (${choices.join(", ")})`;
  }
  const quoted = /`([^`]*)`/.exec(usage);
  const repeatable = REPEATABLE.test(usage);
  usage = usage.replace(REPEATABLE, "");
  if (quoted) return { varname: quoted[1] ?? "", usage: usage.replace(/`([^`]*)`/, "$1") };
  if (opt.type === "boolean" || opt.boolean) return { varname: "", usage };
  if (opt.array || repeatable) return { varname: "list", usage };
  if (opt.type === "number" || opt.number) return { varname: "int", usage };
  if (opt.count) return { varname: "", usage };
  return { varname: "string", usage };
}

function defaultText(opt: Options): string {
  const d: unknown = opt.default;
  if (d === undefined || d === false || d === "" || d === 0 || (Array.isArray(d) && d.length === 0))
    return "";
  return typeof d === "string" ? ` (default ${JSON.stringify(d)})` : ` (default ${String(d)})`;
}

/**
 * wrap is pflag's wrap: `s` wrapped to width `w` with every line but the
 * first indented by `i`; a column too narrow (under 24) starts the text on
 * the next line at 16 instead.
 */
export function wrap(i: number, w: number, s: string): string {
  if (w === 0) return s.replaceAll("\n", `\n${" ".repeat(i)}`);
  let width = w - i;
  let r = "";
  if (width < 24) {
    i = 16;
    width = w - i;
    r += `\n${" ".repeat(i)}`;
  }
  if (width < 24) return s.replaceAll("\n", r);
  // Short orphan words on the last line are avoided by letting a line run five over.
  const slop = 5;
  width -= slop;
  let [line, rest] = wrapN(width, slop, s);
  r += line.replaceAll("\n", `\n${" ".repeat(i)}`);
  while (rest !== "") {
    [line, rest] = wrapN(width, slop, rest);
    r += `\n${" ".repeat(i)}${line.replaceAll("\n", `\n${" ".repeat(i)}`)}`;
  }
  return r;
}

function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, ""];
  const head = s.slice(0, i);
  const w = Math.max(head.lastIndexOf(" "), head.lastIndexOf("\t"), head.lastIndexOf("\n"));
  if (w <= 0) return [s, ""];
  const nl = head.lastIndexOf("\n");
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, w), s.slice(w + 1)];
}
