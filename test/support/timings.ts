/**
 * Timings records how long each phase of a slow test took and prints them at the
 * end (never asserted: timing assertions are forbidden in tests; bench/ measures).
 */
export class Timings {
  readonly #label: string;
  readonly #phases: [string, number][] = [];

  constructor(label: string) {
    this.#label = label;
  }

  /** time runs `fn` and records its duration under `phase`, whether it succeeds or throws. */
  async time<T>(phase: string, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.#phases.push([phase, (performance.now() - start) / 1000]);
    }
  }

  /** print writes one line per phase to the console. */
  print(): void {
    if (this.#phases.length === 0) return;
    console.log(this.#phases.map(([phase, s]) => `${this.#label}: ${phase}: ${s.toFixed(1)} s`).join("\n"));
  }
}

/** ProcessResult is what a finished command printed and returned. */
export interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** ok returns the command's stdout, or fails with its stderr unless it exited 0. */
export function ok(what: string, r: ProcessResult): string {
  if (r.code !== 0)
    throw new Error(`${what} exited ${r.code}:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}
