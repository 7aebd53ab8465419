import yargs, { type Argv } from "yargs";
import { imageSubcommands } from "./commands/image.js";
import { commands } from "./commands/index.js";
import { CommandNotLoaded, isLazyCommand } from "./commands/lazy.js";
import { separateRunCommand } from "./commands/run-argv.js";
import { GLOBAL_OPTIONS } from "./global-options.js";
import { findNode, helpColumns, helpText } from "./help/help.js";
import { helpRequest } from "./help/request.js";
import { clearInterrupt, interruptExitCode } from "./interrupt.js";
import { type CliIO, CliUsageError, io, ReportedFailure, reportError, withIO } from "./output.js";
import { type CommandTree, commandWords, usageErrorText } from "./usage.js";
import { GIT_COMMIT, VERSION } from "./version.js";

/** GlobalOptions are accepted by every command. */
export interface GlobalOptions {
  root?: string;
  "insecure-registry"?: string[];
  "registry-ca"?: string[];
  "registry-mirror"?: string[];
  "registry-connect-timeout"?: string;
  "registry-headers-timeout"?: string;
  "registry-speed-limit"?: string;
  "registry-speed-time"?: string;
}

/**
 * run parses argv, runs one command, and returns the process exit code (0 ok,
 * 1 failed, 2 usage). `stdio` replaces the process streams and environment
 * for this call (tests capture output this way).
 */
export async function run(argv: readonly string[], stdio: Partial<CliIO> = {}): Promise<number> {
  return withIO(stdio, () => runBound(argv));
}

const tree: CommandTree = { commands, groups: { image: imageSubcommands } };

async function runBound(given: readonly string[]): Promise<number> {
  const { stderr } = io();
  const argv = separateRunCommand(given);
  // A command may report its status through process.exitCode; read it for this run only.
  const outerExitCode = process.exitCode;
  process.exitCode = undefined;
  try {
    const request = await helpRequest(argv, tree.commands);
    if (request?.kind === "version") {
      io().stdout.write(`tsbuild version ${VERSION}, build ${GIT_COMMIT}\n`);
      return 0;
    }
    if (request?.kind === "help") {
      const stream = io()[request.stream];
      stream.write(await helpText(request.node, tree.commands, helpColumns(stream)));
      return 0;
    }
    // Only the named command's module is loaded (commands/lazy.ts); usage errors need none.
    const named = (await findNode(commandWords(argv), tree.commands)).node.command;
    if (named && isLazyCommand(named)) await named.load();
    try {
      await parse(argv);
    } catch (err) {
      if (!(err instanceof CommandNotLoaded)) throw err;
      // yargs matched another command than findCommand did, before running anything: load all, parse again.
      await Promise.all(allCommands().map((c) => c.load()));
      await parse(argv);
    }
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof ReportedFailure) return 1;
    if (err instanceof CliUsageError) {
      stderr.write(await usageErrorText(argv, err.message, tree));
      return 2;
    }
    // Stopped by Ctrl-C or SIGTERM: one plain line (not the aborted request's error), and the
    // status a shell gives a process that signal killed (as docker's).
    const interrupted = interruptExitCode();
    if (interrupted !== undefined) {
      stderr.write(`Error: ${interrupted === 130 ? "interrupted" : "terminated"}\n`);
      if (io().env.TSBUILD_DEBUG && err instanceof Error && err.stack) stderr.write(`${err.stack}\n`);
      return interrupted;
    }
    return reportError(err);
  } finally {
    clearInterrupt();
    process.exitCode = outerExitCode;
  }
}

function allCommands() {
  return [...tree.commands, ...Object.values(tree.groups).flat()].filter(isLazyCommand);
}

/** parse runs yargs over argv: the command's handler, or help, version and usage errors. */
async function parse(argv: readonly string[]): Promise<void> {
  let parser: Argv = yargs([...argv])
    .scriptName("tsbuild")
    .options(GLOBAL_OPTIONS)
    // Help, bare groups and --version are answered before yargs (help/request.ts), in docker's shape.
    .version(false)
    .help(false)
    .strict()
    .strictCommands()
    .demandCommand(1, "give a command")
    .recommendCommands()
    .exitProcess(false)
    // docker flags such as --no-trunc and --no-cache are options of their own, not negations.
    .parserConfiguration({ "boolean-negation": false })
    // An empty --root (an unset variable in a script) would otherwise mean the current directory.
    .check((args) => {
      if (args.root === "") throw new CliUsageError("--root needs a directory; it was given an empty string");
      return true;
    })
    .fail((msg, err) => {
      if (err) throw err;
      // Throwing here also stops yargs from running the handler after a usage error.
      throw new CliUsageError(msg);
    });
  for (const command of commands) parser = parser.command(command);
  skipHelpCache(parser);
  // Anything yargs would print goes to this callback instead of console.log, so it reaches our stdout.
  await parser.parseAsync([...argv], {}, (_err, _argv, output) => {
    if (output) io().stdout.write(`${output}\n`);
  });
}

/**
 * skipHelpCache stops yargs from laying out the command's whole help each time it starts a handler
 * (it keeps it to show if the handler fails later, which our .fail() never does): that layout measures
 * every line with string-width, about a third of a call's start-up. Internal yargs API; where it is
 * missing nothing changes but the time.
 */
function skipHelpCache(parser: Argv): void {
  const internal = parser as unknown as {
    getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } };
  };
  const usage = internal.getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === "function") usage.cacheHelpMessage = () => {};
}
