import { appendFile, mkdir, readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { type Digest, isDigest } from "../digest.js";
import { isProcessAlive, pidOfTempName, tempName, writeFileAtomic } from "../layout/fsutil.js";

/**
 * Leases protect blobs that a process has written but not yet named in
 * index.json from a garbage collection running in another process. Each
 * store instance keeps one file `.tmp/lease-<pid>-<rand>` listing its leased
 * digests; the collector honours the files of live processes, and the files
 * of dead processes are debris it removes.
 */
export class Leases {
  readonly #dir: string;
  readonly #file: string;
  readonly #held = new Set<Digest>();
  #queue: Promise<void> = Promise.resolve();

  constructor(root: string) {
    this.#dir = join(root, ".tmp");
    this.#file = join(this.#dir, tempName("lease"));
  }

  /** add leases `d`; it is on disk when the promise resolves. */
  add(d: Digest): Promise<void> {
    if (this.#held.has(d)) return Promise.resolve();
    this.#held.add(d);
    return this.#serial(async () => {
      await mkdir(this.#dir, { recursive: true });
      await appendFile(this.#file, `${d}\n`);
    });
  }

  /** release drops leases (the blobs are named in the index now, or no longer wanted). */
  release(digests: Iterable<Digest>): Promise<void> {
    let changed = false;
    for (const d of digests) changed = this.#held.delete(d) || changed;
    if (!changed) return Promise.resolve();
    return this.#serial(async () => {
      if (this.#held.size === 0) await unlink(this.#file).catch(() => {});
      else await writeFileAtomic(this.#file, [...this.#held].map((d) => `${d}\n`).join(""));
    });
  }

  /** close releases everything. */
  close(): Promise<void> {
    return this.release([...this.#held]);
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(fn);
    this.#queue = next.catch(() => {});
    return next;
  }
}

/** leasedDigests reads the leases of every live process sharing the store at `root`. */
export async function leasedDigests(root: string): Promise<Set<Digest>> {
  const dir = join(root, ".tmp");
  const out = new Set<Digest>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!name.startsWith("lease-")) continue;
    const pid = pidOfTempName(name);
    if (pid === undefined || !isProcessAlive(pid)) continue;
    const text = await readFile(join(dir, name), "utf8").catch(() => "");
    for (const line of text.split("\n")) if (isDigest(line)) out.add(line);
  }
  return out;
}
