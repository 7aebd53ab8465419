import type { Argv, CommandModule, Options, PositionalOptions } from "yargs";

// biome-ignore lint/suspicious/noExplicitAny: yargs command modules have heterogeneous argument types
export type AnyCommand = CommandModule<any, any>;

/**
 * CommandShape is what a command's yargs builder declares, read without
 * yargs: its flags, positionals, examples, subcommands and parser settings.
 * Help pages, usage errors and shell completion are made from it, so they
 * follow each command's own definition.
 */
export interface CommandShape {
  readonly options: ReadonlyMap<string, Options>;
  readonly positionals: ReadonlyMap<string, PositionalOptions>;
  readonly examples: readonly (readonly [command: string, description: string])[];
  readonly subcommands: readonly AnyCommand[];
  readonly parser: Readonly<Record<string, unknown>>;
}

/**
 * shapeOf runs `command`'s builder against a stand-in that records the
 * declarations yargs would get (option, positional, example, command,
 * parserConfiguration) and answers every other call with itself. The
 * command's module must be loaded (lazy.ts) when its builder lives there.
 */
export function shapeOf(command: AnyCommand): CommandShape {
  const options = new Map<string, Options>();
  const positionals = new Map<string, PositionalOptions>();
  const examples: [string, string][] = [];
  const subcommands: AnyCommand[] = [];
  const parser: Record<string, unknown> = {};
  const addOption = (key: string | Record<string, Options>, opt: Options = {}) => {
    if (typeof key === "string") options.set(key, { ...options.get(key), ...opt });
    else for (const [k, o] of Object.entries(key)) options.set(k, { ...options.get(k), ...o });
  };
  const recorder: Argv = new Proxy({} as Argv, {
    get: (_target, prop) => {
      switch (prop) {
        case "option":
        case "options":
          return (key: string | Record<string, Options>, opt?: Options) => {
            addOption(key, opt);
            return recorder;
          };
        case "positional":
          return (key: string, opt: PositionalOptions = {}) => {
            positionals.set(key, opt);
            return recorder;
          };
        case "example":
          return (cmd: string | [string, string?][], description?: string) => {
            if (Array.isArray(cmd)) for (const [c, d] of cmd) examples.push([c, d ?? ""]);
            else examples.push([cmd, description ?? ""]);
            return recorder;
          };
        case "command":
          return (c: AnyCommand | string, description?: string, builder?: unknown) => {
            if (typeof c === "string")
              subcommands.push({ command: c, describe: description ?? "", builder } as AnyCommand);
            else subcommands.push(c);
            return recorder;
          };
        case "parserConfiguration":
          return (config: Record<string, unknown>) => {
            Object.assign(parser, config);
            return recorder;
          };
        // Not a promise: awaiting the recorder must not call it.
        case "then":
          return undefined;
        default:
          return () => recorder;
      }
    },
  });
  const { builder } = command;
  if (typeof builder === "function") (builder as (y: Argv) => unknown)(recorder);
  else if (builder !== undefined) addOption(builder as Record<string, Options>);
  return { options, positionals, examples, subcommands, parser };
}

/** specOf is a command's yargs spec (`rm <images..>`), its first when it has several. */
export function specOf(c: AnyCommand): string {
  return [c.command ?? []].flat()[0] ?? "";
}

/** nameOf is the word that runs a command (`rm` of `rm <images..>`). */
export function nameOf(c: AnyCommand): string {
  return specOf(c).split(" ")[0] ?? "";
}

/** namesOf is a command's name and its aliases. */
export function namesOf(c: AnyCommand): string[] {
  return [nameOf(c), ...[c.aliases ?? []].flat()];
}

/** describeOf is a command's one-line summary ("" when it is hidden). */
export function describeOf(c: AnyCommand): string {
  return typeof c.describe === "string" ? c.describe : "";
}
