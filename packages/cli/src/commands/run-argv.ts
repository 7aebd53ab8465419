import { GLOBAL_VALUE_FLAGS } from "../global-options.js";

/** RUN_VALUE_FLAGS are `tsbuild run`'s options that take a value. */
const RUN_VALUE_FLAGS = new Set([
  "-e",
  "--env",
  "--env-file",
  "--entrypoint",
  "-w",
  "--workdir",
  "-u",
  "--user",
  "-v",
  "--volume",
  "-p",
  "--publish",
  "--network",
  "--name",
  "--runtime",
]);

/**
 * separateRunCommand puts `--` after the IMAGE of `tsbuild run`, so that
 * the container's command keeps its own flags (`run busybox sh -c …`), as
 * docker parses it: everything after IMAGE belongs to the command. Other
 * commands' argv is returned as it is.
 */
export function separateRunCommand(argv: readonly string[]): readonly string[] {
  let i = 0;
  const skipFlags = (valueFlags: ReadonlySet<string>): void => {
    while (i < argv.length && argv[i]!.startsWith("-") && argv[i] !== "--") {
      const flag = argv[i]!;
      i += valueFlags.has(flag) ? 2 : 1;
    }
  };
  skipFlags(GLOBAL_VALUE_FLAGS);
  if (argv[i] !== "run") return argv;
  i++;
  skipFlags(new Set([...GLOBAL_VALUE_FLAGS, ...RUN_VALUE_FLAGS]));
  // No IMAGE (help, a usage error), or the user wrote the separator already.
  if (i >= argv.length || argv[i] === "--" || argv[i + 1] === "--") return argv;
  return [...argv.slice(0, i + 1), "--", ...argv.slice(i + 1)];
}
