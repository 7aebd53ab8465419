import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/**
 * WORKER hashes the files it is given (sha256, read in 1 MiB slices) and posts their digests back, null
 * for a file it could not read (the caller's own hashing then reports it). Inline source, so the CLI
 * bundle needs no separate worker file.
 */
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { openSync, readSync, closeSync } = require("node:fs");
const buf = Buffer.allocUnsafe(1 << 20);
parentPort.postMessage(workerData.map((p) => {
  try {
    const h = createHash("sha256");
    const fd = openSync(typeof p === "string" ? p : Buffer.from(p), "r");
    try {
      for (;;) { const n = readSync(fd, buf, 0, buf.length, null); if (n === 0) break; h.update(buf.subarray(0, n)); }
    } finally { closeSync(fd); }
    return "sha256:" + h.digest("hex");
  } catch { return null; }
}));
`;

/** PARALLEL_MIN_FILES / PARALLEL_MIN_BYTES: below both, starting workers costs more than it saves. */
const PARALLEL_MIN_FILES = 512;
const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;

const BUF = Buffer.allocUnsafe(1024 * 1024);

function hashOne(path: string | Buffer): string | null {
  try {
    const h = createHash("sha256");
    const fd = openSync(path, "r");
    try {
      for (;;) {
        const n = readSync(fd, BUF, 0, BUF.length, null);
        if (n === 0) break;
        h.update(BUF.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
    return `sha256:${h.digest("hex")}`;
  } catch {
    return null;
  }
}

/**
 * hashFiles hashes many files on every core: worker threads take shares (files dealt out by size, so
 * shares weigh alike) while this thread hashes its own. Few or small files are hashed here alone. A
 * file that could not be read gets null.
 */
export async function hashFiles(
  files: readonly { path: string | Buffer; size: number }[],
): Promise<(string | null)[]> {
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const workers = Math.min(3, availableParallelism() - 1, Math.floor(files.length / 256));
  if (workers < 1 || (files.length < PARALLEL_MIN_FILES && bytes < PARALLEL_MIN_BYTES))
    return files.map((f) => hashOne(f.path));
  const order = files.map((_, i) => i).sort((a, b) => files[b]!.size - files[a]!.size);
  const shares: number[][] = Array.from({ length: workers + 1 }, () => []);
  const weight = new Array<number>(workers + 1).fill(0);
  for (const i of order) {
    let s = 0;
    for (let k = 1; k < shares.length; k++) if (weight[k]! < weight[s]!) s = k;
    shares[s]!.push(i);
    // Each file costs its bytes plus a fixed cost for its open/read/close.
    weight[s]! += files[i]!.size + 16 * 1024;
  }
  const out = new Array<string | null>(files.length).fill(null);
  const running = shares.slice(1).map(
    (share) =>
      new Promise<void>((resolve) => {
        const w = new Worker(WORKER, { eval: true, workerData: share.map((i) => files[i]!.path) });
        w.once("message", (digests: (string | null)[]) => {
          for (const [k, i] of share.entries()) out[i] = digests[k] ?? null;
        });
        // A worker that fails leaves nulls: the caller hashes those files itself.
        w.once("error", () => {});
        w.once("exit", () => resolve());
      }),
  );
  for (const i of shares[0]!) out[i] = hashOne(files[i]!.path);
  await Promise.all(running);
  return out;
}
