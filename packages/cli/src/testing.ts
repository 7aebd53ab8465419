import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { run } from "./cli.js";

/** CliResult is what an in-process `tsbuild` run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * runCli runs `tsbuild ARGS` in this process with captured output, for tests.
 * `stdin` feeds the command's standard input (default: empty).
 */
export async function runCli(
  args: readonly string[],
  options: { stdin?: string | Buffer | Readable; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (c: Buffer) => out.push(c));
  stderr.on("data", (c: Buffer) => err.push(c));
  const stdin =
    options.stdin instanceof Readable
      ? options.stdin
      : Readable.from(options.stdin === undefined ? [] : [options.stdin]);
  const code = await run(args, { stdout, stderr, stdin, env: options.env ?? process.env });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

/** tempStore makes an empty directory for a throwaway image store. */
export async function tempDir(prefix = "tsbuild-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}
