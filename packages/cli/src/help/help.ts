import type { Options } from "yargs";
import { isLazyCommand } from "../commands/lazy.js";
import { GLOBAL_OPTIONS, VERSION_OPTION } from "../global-options.js";
import { flagUsages } from "./flags.js";
import { type AnyCommand, type CommandShape, describeOf, nameOf, namesOf, shapeOf, specOf } from "./shape.js";

/** SUMMARY is the top-level help's description of tsbuild. */
const SUMMARY = "Build, store and push OCI images without a daemon";

/**
 * COMMON are docker's "Common Commands" (its category-top annotation, in its
 * order) that tsbuild has; the top-level help lists them first.
 */
const COMMON = [
  "run",
  "exec",
  "ps",
  "build",
  "pull",
  "push",
  "images",
  "login",
  "logout",
  "search",
  "version",
  "info",
];

/** Node is one command in the tree with the words that reach it (`["image", "ls"]`); the root has none. */
export interface Node {
  readonly path: readonly string[];
  /** command is undefined for the root. */
  readonly command?: AnyCommand;
}

/** loaded is the command with its module imported (lazy.ts), so its builder can be read. */
export async function loaded(c: AnyCommand): Promise<AnyCommand> {
  return isLazyCommand(c) ? c.load() : c;
}

/**
 * isGroup tells a command with subcommands (`image`, `builder <command>`)
 * from a leaf without importing a lazy command's module: a lazy group names
 * a `<command>` positional, as yargs's own convention; others declare
 * subcommands in their builder.
 */
export function isGroup(c: AnyCommand): boolean {
  if (isLazyCommand(c)) return specOf(c).split(" ").slice(1).includes("<command>");
  return shapeOf(c).subcommands.length > 0;
}

/** subcommandsOf lists a group's subcommands (importing its module when lazy). */
export async function subcommandsOf(node: Node, top: readonly AnyCommand[]): Promise<readonly AnyCommand[]> {
  if (node.command === undefined) return top;
  return shapeOf(await loaded(node.command)).subcommands;
}

/** walkTree lists every command under the root, depth first, importing the modules of groups. */
export async function walkTree(top: readonly AnyCommand[]): Promise<Node[]> {
  const out: Node[] = [];
  const visit = async (node: Node) => {
    for (const c of await subcommandsOf(node, top)) {
      const child = { path: [...node.path, nameOf(c)], command: c };
      out.push(child);
      if (isGroup(c)) await visit(child);
    }
  };
  await visit({ path: [] });
  return out;
}

/** findNode follows `words` from the root while they name commands; `rest` are the words left over. */
export async function findNode(
  words: readonly string[],
  top: readonly AnyCommand[],
): Promise<{ node: Node; rest: string[] }> {
  let node: Node = { path: [] };
  let i = 0;
  for (; i < words.length; i++) {
    if (node.command !== undefined && !isGroup(node.command)) break;
    const word = words[i] ?? "";
    const next = (await subcommandsOf(node, top)).find((c) => namesOf(c).includes(word));
    if (next === undefined) break;
    node = { path: [...node.path, word], command: next };
  }
  return { node, rest: words.slice(i) };
}

/** Width is the column docker wraps help at: the terminal's width less one, else 79. */
export function helpColumns(stream: NodeJS.WritableStream): number {
  const tty = stream as Partial<NodeJS.WriteStream>;
  return (tty.isTTY && tty.columns ? tty.columns : 80) - 1;
}

/**
 * helpText renders a command's help as docker's usage template does: the
 * usage line, the summary, aliases, examples, the command's own options,
 * its subcommands, and, for the top level only, the global options.
 */
export async function helpText(node: Node, top: readonly AnyCommand[], cols: number): Promise<string> {
  const parts: string[] = [];
  const command = node.command === undefined ? undefined : await loaded(node.command);
  const shape = command === undefined ? undefined : shapeOf(command);
  const group = node.command === undefined || isGroup(node.command);
  const path = ["tsbuild", ...node.path].join(" ");
  const own = shape?.options ?? new Map<string, Options>();
  if (group) parts.push(`Usage:  ${path}${node.command === undefined ? " [OPTIONS]" : ""} COMMAND`);
  else parts.push(`Usage:  ${usageLine(node, shape)}`);
  parts.push(node.command === undefined ? SUMMARY : describeOf(node.command));
  if (node.command !== undefined) {
    const aliases = await aliasesOf(node, top);
    if (aliases.length > 1) parts.push(`Aliases:\n  ${aliases.join(", ")}`);
  }
  if (shape && shape.examples.length > 0) parts.push(`Examples:\n${examplesText(shape)}`);
  if (node.command !== undefined && visible(own).size > 0)
    parts.push(`Options:\n${flagUsages(own, cols).trimEnd()}`);
  if (group) {
    const subs = [...(await subcommandsOf(node, top))].filter((c) => describeOf(c) !== "");
    subs.sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
    const pad = Math.max(11, ...subs.map((c) => nameOf(c).length));
    const list = (cs: AnyCommand[]) =>
      cs.map((c) => `  ${nameOf(c).padEnd(pad)} ${describeOf(c)}`).join("\n");
    // docker's top-level page puts its everyday verbs first, in its own order.
    const common =
      node.command === undefined ? COMMON.flatMap((n) => subs.filter((c) => nameOf(c) === n)) : [];
    const management = subs.filter(isGroup);
    const leaves = subs.filter((c) => !isGroup(c) && !common.includes(c));
    if (common.length > 0) parts.push(`Common Commands:\n${list(common)}`);
    if (management.length > 0) parts.push(`Management Commands:\n${list(management)}`);
    if (leaves.length > 0) parts.push(`Commands:\n${list(leaves)}`);
  }
  if (node.command === undefined) {
    const globals = new Map<string, Options>([
      ...Object.entries(GLOBAL_OPTIONS),
      ["version", VERSION_OPTION],
    ]);
    parts.push(`Global Options:\n${flagUsages(globals, cols).trimEnd()}`);
  }
  if (group) parts.push(`Run '${path} COMMAND --help' for more information on a command.`);
  return `${parts.join("\n\n")}\n`;
}

function visible(options: ReadonlyMap<string, Options>): ReadonlyMap<string, Options> {
  return new Map([...options].filter(([, o]) => !o.hidden));
}

/** examplesText shows each example as a comment saying what it does, then the command. */
function examplesText(shape: CommandShape): string {
  return shape.examples.map(([cmd, what]) => `${what ? `  # ${what}\n` : ""}  ${cmd}`).join("\n\n");
}

/** METAVAR is a docker-style argument name leading a positional's description (`NAME[:TAG|@DIGEST]`). */
const METAVAR = /^[A-Z][A-Z0-9_]*(\[\S*\])?$/;

/** metavarOf names a positional as docker would: the `NAME[:TAG]` its description starts with, else KEY. */
export function metavarOf(key: string, shape: CommandShape | undefined): string {
  const described = String(shape?.positionals.get(key)?.describe ?? "").split(/\s/)[0] ?? "";
  return METAVAR.test(described) ? described : key.toUpperCase();
}

/**
 * usageLine is docker's usage line for a leaf command: `tsbuild image rm
 * [OPTIONS] IMAGE [IMAGE...]`. An argument is named by the docker-style name
 * its description starts with (`NAME[:TAG]`), else by its own name in capitals;
 * `[OPTIONS]` appears when the command has flags. Without a shape (a command
 * whose module is not loaded), the names come from the spec alone.
 */
export function usageLine(node: Node, shape: CommandShape | undefined): string {
  const spec = node.command === undefined ? "" : specOf(node.command);
  const args = spec
    .split(" ")
    .slice(1)
    .filter((a) => a !== "")
    .map((a) => {
      const m = /^([<[])([^.>\]]+)(\.\.)?[>\]]$/.exec(a);
      if (!m) return a;
      const name = metavarOf(m[2] ?? "", shape);
      if (m[1] === "[") return m[3] ? `[${name}...]` : `[${name}]`;
      return m[3] ? `${name} [${name}...]` : name;
    });
  const options = shape === undefined || visible(shape.options).size > 0 ? ["[OPTIONS]"] : [];
  return ["tsbuild", ...node.path, ...options, ...args].join(" ");
}

/**
 * aliasesOf lists every way to run a command, as docker's `Aliases:` (`tsbuild
 * image ls, tsbuild image list, tsbuild images`): its own aliases, and the
 * same verb elsewhere in the tree — a command with the same summary and
 * arguments at the top level or in a group whose subcommands are known without
 * importing modules, and its own group. Longer paths (the group's) come first.
 */
async function aliasesOf(node: Node, top: readonly AnyCommand[]): Promise<string[]> {
  const target = node.command;
  if (target === undefined) return [];
  const sameVerb = (c: AnyCommand) =>
    c === target || (describeOf(c) === describeOf(target) && args(c) === args(target));
  const places: { parent: string[]; commands: readonly AnyCommand[] }[] = [{ parent: [], commands: top }];
  for (const c of top) {
    if (!isLazyCommand(c) && isGroup(c))
      places.push({ parent: [nameOf(c)], commands: shapeOf(c).subcommands });
  }
  const parent = node.path.slice(0, -1);
  if (parent.length > 0 && !places.some((p) => p.parent.join(" ") === parent.join(" "))) {
    const { node: parentNode } = await findNode(parent, top);
    places.push({ parent, commands: await subcommandsOf(parentNode, top) });
  }
  const found: string[][] = [];
  for (const place of places.sort((a, b) => b.parent.length - a.parent.length)) {
    for (const c of place.commands) {
      if (sameVerb(c)) for (const name of namesOf(c)) found.push([...place.parent, name]);
    }
  }
  return [...new Set(found.map((p) => ["tsbuild", ...p].join(" ")))];
}

function args(c: AnyCommand): string {
  return specOf(c).split(" ").slice(1).join(" ");
}
