import { GLOBAL_VALUE_FLAGS } from "./global-options.js";
import { findNode, isGroup, loaded, metavarOf, usageLine } from "./help/help.js";
import { type AnyCommand, describeOf, shapeOf } from "./help/shape.js";

/** CommandTree lists top-level commands and, per group command (`image`), its subcommands. */
export interface CommandTree {
  readonly commands: readonly AnyCommand[];
  readonly groups: Readonly<Record<string, readonly AnyCommand[]>>;
}

/**
 * commandWords are argv's words that are not flags, with the global options'
 * values skipped as yargs skips them: the command's path, then its arguments.
 */
export function commandWords(argv: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (a === "--") break;
    if (GLOBAL_VALUE_FLAGS.has(a)) i++;
    else if (!a.startsWith("-") || a === "-") words.push(a);
  }
  return words;
}

/** leadingFlags are the flags before argv's first word (global options' values skipped). */
function leadingFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (a === "--" || !a.startsWith("-") || a === "-") break;
    if (GLOBAL_VALUE_FLAGS.has(a)) i++;
    else out.push(a);
  }
  return out;
}

/**
 * usageErrorText is docker's text for a usage error: what is wrong with which
 * command (`"tsbuild image rm" requires at least 1 argument.`), where its
 * help is, and its usage line and summary, instead of yargs's bare
 * "Not enough non-option arguments" and a pointer to the top-level help.
 */
export async function usageErrorText(
  argv: readonly string[],
  message: string,
  tree: CommandTree,
): Promise<string> {
  const words = commandWords(argv);
  const { node, rest } = await findNode(words, tree.commands);
  const flags = argv.filter((a) => /^--?[^-]/.test(a) && !GLOBAL_VALUE_FLAGS.has(a.split("=")[0] ?? ""));
  // A flag before the command is the top level's, which has only the global ones.
  const early = leadingFlags(argv).find((f) => !GLOBAL_VALUE_FLAGS.has(f.split("=")[0] ?? ""));
  if (early !== undefined) return `tsbuild: unknown flag: ${early.split("=")[0]}\nSee 'tsbuild --help'.\n`;
  if (node.command === undefined) {
    // With no command word, what yargs objects to is a flag the top level does not have.
    const what =
      words[0] !== undefined
        ? `'${words[0]}' is not a tsbuild command.`
        : flags[0] !== undefined
          ? `unknown flag: ${flags[0].split("=")[0]}`
          : message;
    return `tsbuild: ${what}\nSee 'tsbuild --help'.\n`;
  }
  const path = ["tsbuild", ...node.path].join(" ");
  const group = isGroup(node.command);
  const shape = shapeOf(await loaded(node.command));
  let what = message;
  const missing = /^Not enough non-option arguments: got \d+, need at least (\d+)$/.exec(message);
  const unknown = /^Unknown arguments?: (.*)$/.exec(message);
  const invalid = /^Invalid values:\s+Argument: (\S+), Given: (.*), Choices: (.*)$/.exec(message);
  // yargs calls an extra positional of a leaf command an unknown command.
  const extra = group ? undefined : /^Unknown command: (.*)$/.exec(message);
  if (group && rest[0] !== undefined) {
    what = `'${rest[0]}' is not a ${path} command.`;
  } else if (group && flags[0] !== undefined && !unknown) {
    what = `unknown flag: ${flags[0].split("=")[0]}`;
  } else if (invalid) {
    const [, key = "", given = "", choices = ""] = invalid;
    const subject = shape.options.has(key) ? `"--${key}" flag` : `"${metavarOf(key, shape)}"`;
    what = `invalid argument ${given} for ${subject}: choose from ${choices}`;
  } else if (missing) {
    const n = Number(missing[1]);
    what = `"${path}" requires at least ${n} argument${n === 1 ? "" : "s"}.`;
  } else if (unknown) {
    const named = unknown[1]?.split(", ") ?? [];
    const flag = flags.find((f) => named.includes(f.replace(/^--?/, "").split("=")[0] ?? ""));
    what = flag ? `unknown flag: ${flag.split("=")[0]}` : `"${path}" got unexpected arguments: ${unknown[1]}`;
  } else if (extra) {
    what = `"${path}" got unexpected arguments: ${extra[1]}`;
  }
  const usage = group ? `${path} COMMAND` : usageLine(node, shape);
  const describe = describeOf(node.command) === "" ? "" : `\n\n${describeOf(node.command)}`;
  return `tsbuild: ${what}\nSee '${path} --help'.\n\nUsage:  ${usage}${describe}\n`;
}
