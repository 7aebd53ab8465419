import { AsyncLocalStorage } from "node:async_hooks";

/** CliUsageError is thrown by a command when its arguments are wrong; it exits 2. */
export class CliUsageError extends Error {
  override readonly name = "CliUsageError";
}

/** ReportedFailure means the command already printed its errors (e.g. `rmi a b` where one failed); it exits 1 silently. */
export class ReportedFailure extends Error {
  override readonly name = "ReportedFailure";
  constructor() {
    super("command failed");
  }
}

/**
 * CliIO is where a command reads and writes. `run()` binds it per call (an
 * AsyncLocalStorage), so in-process tests capture output and feed stdin
 * without touching the real process streams, and concurrent runs never mix.
 */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

const current = new AsyncLocalStorage<CliIO>();

/**
 * processIO is the process's own streams, each made when first used: Node builds process.stdin
 * (and stderr) on first access, which costs start-up time in a call that never reads it.
 */
const processIO: CliIO = {
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
  get stdin() {
    return process.stdin;
  },
  get env() {
    return process.env;
  },
};

/** io returns the streams of the running command (the process's own outside `run`). */
export function io(): CliIO {
  return current.getStore() ?? processIO;
}

/** withIO runs `fn` with `overrides` bound as the command IO (the rest: the IO it was called in). */
export function withIO<T>(overrides: Partial<CliIO>, fn: () => T): T {
  const outer = io();
  const pick = <K extends keyof CliIO>(k: K): CliIO[K] =>
    (k in overrides ? overrides[k] : outer[k]) as CliIO[K];
  return current.run(
    {
      get stdout() {
        return pick("stdout");
      },
      get stderr() {
        return pick("stderr");
      },
      get stdin() {
        return pick("stdin");
      },
      get env() {
        return pick("env");
      },
    },
    fn,
  );
}

/** print writes `text` to the command's stdout. */
export function print(text: string): void {
  io().stdout.write(text);
}

/** reportError prints an error to stderr the way docker does and returns exit code 1. */
export function reportError(err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  const { stderr, env } = io();
  stderr.write(`Error: ${message}\n`);
  if (env.TSBUILD_DEBUG && err instanceof Error && err.stack) stderr.write(`${err.stack}\n`);
  return 1;
}
