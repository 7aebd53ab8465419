import { GLOBAL_VALUE_FLAGS } from "../global-options.js";
import { findNode, isGroup, loaded, type Node } from "./help.js";
import type { AnyCommand } from "./shape.js";
import { shapeOf } from "./shape.js";

/**
 * HelpRequest is what argv asks of help rather than of a command: a help
 * page (`--help`, `-h`, `tsbuild help image ls`: stdout), the page a bare
 * group prints (`tsbuild`, `tsbuild image`: stderr, exit 0, as docker), or the
 * version line (`--version`, `-v` before any command).
 */
export type HelpRequest = { kind: "help"; node: Node; stream: "stdout" | "stderr" } | { kind: "version" };

/**
 * helpRequest reads argv as docker reads it for help. A leaf command's own
 * `-h` flag (if it has one) is not help, nor is anything after `--`, nor,
 * for a command that stops parsing at its first argument (yargs's
 * halt-at-non-option, as `run IMAGE CMD…`), anything after that argument.
 * Returns undefined when argv is for the command itself (or a usage error).
 */
export async function helpRequest(
  argv: readonly string[],
  top: readonly AnyCommand[],
): Promise<HelpRequest | undefined> {
  const words: string[] = [];
  const flags: string[] = [];
  let others = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (a === "--") break;
    if (GLOBAL_VALUE_FLAGS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith("-") && a !== "-") {
      if (GLOBAL_VALUE_FLAGS.has(a.split("=")[0] ?? "")) continue;
      if (words.length === 0 && (a === "--version" || a === "-v")) return { kind: "version" };
      flags.push(a);
    } else words.push(a);
    others = true;
  }
  const helpTopic = words[0] === "help" && !top.some((c) => c.command === "help");
  const { node, rest } = await findNode(helpTopic ? words.slice(1) : words, top);
  if (helpTopic) return rest.length === 0 ? { kind: "help", node, stream: "stdout" } : undefined;
  if (node.command === undefined) {
    // Bare `tsbuild` (global options alone) prints the top-level help; anything else unmatched is yargs's error.
    if (words.length === 0 && flags.some(isHelpFlag)) return { kind: "help", node, stream: "stdout" };
    return others ? undefined : { kind: "help", node, stream: "stderr" };
  }
  if (isGroup(node.command)) {
    if (rest.length > 0) return undefined;
    if (flags.some(isHelpFlag)) return { kind: "help", node, stream: "stdout" };
    return flags.length === 0 ? { kind: "help", node, stream: "stderr" } : undefined;
  }
  return (await asksLeafHelp(argv, node)) ? { kind: "help", node, stream: "stdout" } : undefined;
}

function isHelpFlag(a: string): boolean {
  return a === "--help" || a === "-h";
}

/** asksLeafHelp tells whether argv asks a leaf command for its help, as that command parses its flags. */
async function asksLeafHelp(argv: readonly string[], node: Node): Promise<boolean> {
  if (node.command === undefined) return false;
  const shape = shapeOf(await loaded(node.command));
  const aliases = [...shape.options].flatMap(([name, o]) => [name, ...[o.alias ?? []].flat()]);
  const ownShortH = aliases.includes("h");
  const valueFlags = new Set<string>(GLOBAL_VALUE_FLAGS);
  for (const [name, o] of shape.options) {
    if (o.type === "boolean" || o.boolean || o.count) continue;
    for (const n of [name, ...[o.alias ?? []].flat()]) valueFlags.add(n.length === 1 ? `-${n}` : `--${n}`);
  }
  const halts = shape.parser["halt-at-non-option"] === true;
  let words = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (a === "--") return false;
    if (a === "--help" || (a === "-h" && !ownShortH)) return true;
    if (valueFlags.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith("-") && a !== "-") continue;
    words++;
    // Past the command's own words, a halting command's arguments are no longer its flags.
    if (halts && words > node.path.length) return false;
  }
  return false;
}
