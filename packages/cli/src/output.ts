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

/** io returns the streams of the running command (the process's own outside `run`). */
export function io(): CliIO {
  return (
    current.getStore() ?? {
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
      env: process.env,
    }
  );
}

/** withIO runs `fn` with `overrides` bound as the command IO. */
export function withIO<T>(overrides: Partial<CliIO>, fn: () => T): T {
  return current.run({ ...io(), ...overrides }, fn);
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
