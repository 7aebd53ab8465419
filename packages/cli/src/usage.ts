import type { CommandModule } from "yargs";

/** GLOBAL_VALUE_FLAGS are the global options that take a value (skipped when finding the command words). */
const GLOBAL_VALUE_FLAGS = new Set([
  "--root",
  "--insecure-registry",
  "--registry-ca",
  "--registry-mirror",
  "--registry-connect-timeout",
  "--registry-headers-timeout",
  "--registry-speed-limit",
  "--registry-speed-time",
]);

// biome-ignore lint/suspicious/noExplicitAny: yargs command modules have heterogeneous argument types
type AnyCommand = CommandModule<any, any>;

/** CommandTree lists top-level commands and, per group command (`image`), its subcommands. */
export interface CommandTree {
  readonly commands: readonly AnyCommand[];
  readonly groups: Readonly<Record<string, readonly AnyCommand[]>>;
}

/**
 * usageErrorText is docker's text for a usage error: what is wrong with which
 * command (`"tsbuild image rm" requires at least 1 argument.`), where its
 * help is, and its usage line and summary, instead of yargs's bare
 * "Not enough non-option arguments" and a pointer to the top-level help.
 */
export function usageErrorText(argv: readonly string[], message: string, tree: CommandTree): string {
  const found = findCommand(argv, tree);
  if (!found) {
    const word = argv.find((a, i) => !a.startsWith("-") && !GLOBAL_VALUE_FLAGS.has(argv[i - 1] ?? ""));
    const what = word === undefined ? message : `'${word}' is not a tsbuild command.`;
    return `tsbuild: ${what}\nSee 'tsbuild --help'.\n`;
  }
  const path = `tsbuild ${found.words.join(" ")}`;
  let what = message;
  const missing = /^Not enough non-option arguments: got \d+, need at least (\d+)$/.exec(message);
  const unknown = /^Unknown arguments?: (.*)$/.exec(message);
  // yargs calls an extra positional of a leaf command an unknown command.
  const extra = found.group ? undefined : /^Unknown command: (.*)$/.exec(message);
  if (missing) {
    const n = Number(missing[1]);
    what = `"${path}" requires at least ${n} argument${n === 1 ? "" : "s"}.`;
  } else if (unknown) {
    const flags = argv.filter((a) => /^--?[^-]/.test(a) && !GLOBAL_VALUE_FLAGS.has(a.split("=")[0] ?? ""));
    const named = unknown[1]?.split(", ") ?? [];
    const flag = flags.find((f) => named.includes(f.replace(/^--?/, "").split("=")[0] ?? ""));
    what = flag ? `unknown flag: ${flag.split("=")[0]}` : `"${path}" got unexpected arguments: ${unknown[1]}`;
  } else if (extra) {
    what = `"${path}" got unexpected arguments: ${extra[1]}`;
  }
  const usage = usageLine(found.command, found.words);
  const describe = typeof found.command.describe === "string" ? `\n\n${found.command.describe}` : "";
  return `tsbuild: ${what}\nSee '${path} --help'.\n\nUsage:  ${usage}${describe}\n`;
}

/**
 * findCommand finds the command that argv names (`image ls`, `images`), or
 * the group alone (`image`) when its subcommand is missing or unknown; the
 * global options and their values are skipped as yargs skips them.
 */
export function findCommand(
  argv: readonly string[],
  tree: CommandTree,
): { command: AnyCommand; words: string[]; group: boolean } | undefined {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const a = argv[i] ?? "";
    if (GLOBAL_VALUE_FLAGS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith("-")) continue;
    words.push(a);
    if (tree.groups[words[0] ?? ""] === undefined) break;
  }
  const [first, second] = words;
  const top = tree.commands.find((c) => names(c).includes(first ?? ""));
  if (!top) return undefined;
  const group = tree.groups[first ?? ""];
  if (group === undefined) return { command: top, words: [first ?? ""], group: false };
  const sub = second === undefined ? undefined : group.find((c) => names(c).includes(second));
  return sub
    ? { command: sub, words: [first ?? "", second ?? ""], group: false }
    : { command: top, words: [first ?? ""], group: true };
}

function names(c: AnyCommand): string[] {
  const spec = [c.command ?? []].flat()[0] ?? "";
  const aliases = [c.aliases ?? []].flat();
  return [spec.split(" ")[0] ?? "", ...aliases];
}

/** usageLine turns yargs's `rm <images..>` into docker's `tsbuild image rm [OPTIONS] IMAGES...`. */
function usageLine(c: AnyCommand, words: readonly string[]): string {
  const spec = [c.command ?? []].flat()[0] ?? "";
  const args = spec
    .split(" ")
    .slice(1)
    .map((a) => {
      const m = /^([<[])([^.>\]]+)(\.\.)?[>\]]$/.exec(a);
      if (!m) return a;
      const name = (m[2] ?? "").toUpperCase();
      const shown = m[3] ? `${name}...` : name;
      return m[1] === "[" ? `[${shown}]` : shown;
    });
  return ["tsbuild", ...words, "[OPTIONS]", ...args].join(" ");
}
