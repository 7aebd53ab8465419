import yargs, { type Argv } from "yargs";
import { imageSubcommands } from "./commands/image.js";
import { commands } from "./commands/index.js";
import { CommandNotLoaded, isLazyCommand } from "./commands/lazy.js";
import { clearInterrupt, interruptExitCode } from "./interrupt.js";
import { type CliIO, CliUsageError, io, ReportedFailure, reportError, withIO } from "./output.js";
import { type CommandTree, findCommand, usageErrorText } from "./usage.js";
import { VERSION } from "./version.js";

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

async function runBound(argv: readonly string[]): Promise<number> {
  const { stderr } = io();
  // A command may report its status through process.exitCode; read it for this run only.
  const outerExitCode = process.exitCode;
  process.exitCode = undefined;
  try {
    // Only the named command's module is loaded (commands/lazy.ts); help and usage errors need none.
    const named = findCommand(argv, tree)?.command;
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
      stderr.write(usageErrorText(argv, err.message, tree));
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
    .usage("Usage: tsbuild [--root DIR] COMMAND\n\nBuild, store and push OCI images without a daemon.")
    .option("root", {
      type: "string",
      describe: "Local image store (default $TSBUILD_ROOT, else $XDG_DATA_HOME/tsbuild)",
      global: true,
    })
    .option("insecure-registry", {
      type: "string",
      array: true,
      // One value per flag, so a repeated flag does not swallow the positional arguments after it.
      nargs: 1,
      describe: "Allow plain HTTP or unverified TLS for HOST[:PORT] (also $TSBUILD_INSECURE_REGISTRIES)",
      global: true,
    })
    .option("registry-ca", {
      type: "string",
      array: true,
      // One value per flag, so a repeated flag does not swallow the positional arguments after it.
      nargs: 1,
      describe: "Trust this PEM CA bundle for registries (also /etc/docker/certs.d/HOST/ca.crt)",
      global: true,
    })
    .option("registry-mirror", {
      type: "string",
      array: true,
      // One value per flag, so a repeated flag does not swallow the positional arguments after it.
      nargs: 1,
      describe: "Pull Docker Hub images through this mirror URL first (also $TSBUILD_REGISTRY_MIRRORS)",
      global: true,
    })
    .option("registry-connect-timeout", {
      type: "string",
      describe: "Give up connecting to a registry after this long (default 10s; 0: never)",
      global: true,
    })
    .option("registry-headers-timeout", {
      type: "string",
      describe: "Give up on a registry that sends no response this long after a request (default 30s)",
      global: true,
    })
    .option("registry-speed-limit", {
      type: "string",
      describe: "Fail a transfer slower than this many bytes/s for --registry-speed-time (default 1k)",
      global: true,
    })
    .option("registry-speed-time", {
      type: "string",
      describe: "The window --registry-speed-limit is measured over (default 30s; 0: no check)",
      global: true,
    })
    .version(VERSION)
    .alias("v", "version")
    .help()
    .alias("h", "help")
    .strict()
    .strictCommands()
    .demandCommand(1, "Give a command; see tsbuild --help.")
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 110))
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
  // yargs hands help and version text to this callback instead of console.log, so they reach our stdout.
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
