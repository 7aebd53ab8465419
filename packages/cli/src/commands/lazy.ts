import type { Argv, CommandModule } from "yargs";

// biome-ignore lint/suspicious/noExplicitAny: yargs command modules have heterogeneous argument types
type AnyCommand = CommandModule<any, any>;

/**
 * LazyCommandSpec is what the top-level help, command matching and usage
 * errors need of a command (its name, aliases and summary), plus how to load
 * the module that builds its options and runs it. It repeats the module's
 * `command`, `aliases` and `describe`; lazy.test.ts pins them equal.
 */
export interface LazyCommandSpec {
  command: string;
  aliases?: string[];
  describe: string;
  load: () => Promise<AnyCommand>;
}

/** LazyCommand is a yargs command module whose builder and handler live in a module loaded on demand. */
export interface LazyCommand extends AnyCommand {
  /** load imports the command's module; run() calls it before parsing for the command that argv names. */
  load(): Promise<AnyCommand>;
}

/**
 * CommandNotLoaded is thrown when yargs reaches a lazy command that run() did
 * not load beforehand (it found another command in argv than yargs did);
 * nothing has run yet, so run() loads every command and parses again.
 */
export class CommandNotLoaded extends Error {
  override readonly name = "CommandNotLoaded";
}

/**
 * lazyCommand wraps a command so that `tsbuild CMD` imports only CMD's
 * module (and what it imports: the registry client, the builder) instead of
 * every command's: start-up is part of every call's time.
 */
export function lazyCommand(spec: LazyCommandSpec): LazyCommand {
  let real: AnyCommand | undefined;
  const loaded = (): AnyCommand => {
    if (real === undefined) throw new CommandNotLoaded(`command not loaded: ${spec.command}`);
    return real;
  };
  return {
    command: spec.command,
    aliases: spec.aliases ?? [],
    describe: spec.describe,
    // biome-ignore lint/suspicious/noExplicitAny: yargs passes (yargs, helpOrVersionSet)
    builder: (y: Argv<any>, ...rest: any[]) => {
      const builder = loaded().builder;
      if (typeof builder === "function") return (builder as (...a: unknown[]) => unknown)(y, ...rest);
      return builder === undefined ? y : y.options(builder);
    },
    handler: (argv) => loaded().handler(argv),
    load: async () => {
      real ??= await spec.load();
      return real;
    },
  } as LazyCommand;
}

/** isLazyCommand tells a lazy wrapper from a plain command module. */
export function isLazyCommand(c: AnyCommand): c is LazyCommand {
  return typeof (c as Partial<LazyCommand>).load === "function";
}
