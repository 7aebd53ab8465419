/** CliUsageError is thrown by a command when its arguments are wrong; it exits 2. */
export class CliUsageError extends Error {
  override readonly name = "CliUsageError";
}

/** reportError prints an error to stderr the way docker does and returns exit code 1. */
export function reportError(err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`Error: ${message}\n`);
  if (process.env.TSBUILD_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return 1;
}
