import { spawn } from "node:child_process";

/** PtyResult is what a program wrote to its terminal (stdout and stderr both) and its exit code. */
export interface PtyResult {
  code: number | null;
  output: Buffer;
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * runInPty runs `argv` on a real pseudo-terminal of `cols`×`rows` and records everything it writes,
 * escape codes included: util-linux's `script` makes the terminal (no native module), `stty` sizes it.
 * The program sees a TTY on stdin, stdout and stderr, as it would in a terminal window.
 */
export function runInPty(
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cols?: number; rows?: number; cwd?: string } = {},
): Promise<PtyResult> {
  const command = `stty cols ${options.cols ?? 80} rows ${options.rows ?? 24}; exec ${argv.map(quote).join(" ")}`;
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qfec", command, "/dev/null"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { TERM: "xterm", ...(options.env ?? process.env) },
      ...(options.cwd !== undefined && { cwd: options.cwd }),
    });
    const out: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => out.push(c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output: Buffer.concat(out) }));
  });
}
