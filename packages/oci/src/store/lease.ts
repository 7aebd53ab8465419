import { appendFile, mkdir, readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { type Digest, isDigest } from "../digest.js";
import { isProcessAlive, pidOfTempName, tempName, writeFileAtomic } from "../layout/fsutil.js";

/**
 * Leases protect blobs that a process has written or found present but not
 * yet named in index.json from a garbage collection running in another
 * process (or another store instance of this one). Each store instance keeps
 * one file `.tmp/lease-<pid>-<rand>` listing the digests it holds; the
 * collector honours the files of live processes, and the files of dead
 * processes are debris it removes.
 *
 * Leases are counted: every {@link BlobLease} (one per operation: a pull, a
 * load, an import) holds each of its digests once, and a digest stays in the
 * file while any lease of this instance holds it, so one operation ending
 * never drops the protection another still relies on.
 */
export class Leases {
  readonly #dir: string;
  readonly #file: string;
  readonly #counts = new Map<Digest, number>();
  readonly #open = new Set<BlobLease>();
  #queue: Promise<void> = Promise.resolve();

  constructor(root: string) {
    this.#dir = join(root, ".tmp");
    this.#file = join(this.#dir, tempName("lease"));
  }

  /** lease starts an empty lease handle; add digests to it, release it when done. */
  lease(): BlobLease {
    const lease = new BlobLease(this);
    this.#open.add(lease);
    return lease;
  }

  /** close releases every lease of this instance. */
  async close(): Promise<void> {
    await Promise.all([...this.#open].map((l) => l.release()));
  }

  /** acquire counts one more holder of each digest; the new ones are on disk when it resolves. */
  acquire(digests: readonly Digest[]): Promise<void> {
    const added: Digest[] = [];
    for (const d of digests) {
      const n = this.#counts.get(d) ?? 0;
      this.#counts.set(d, n + 1);
      if (n === 0) added.push(d);
    }
    // Even with nothing new, wait for earlier writes: a digest another lease
    // added a moment ago may not be on disk yet.
    return this.#serial(async () => {
      if (added.length === 0) return;
      await mkdir(this.#dir, { recursive: true });
      await appendFile(this.#file, added.map((d) => `${d}\n`).join(""));
    });
  }

  /** drop counts one holder less of each digest; those nobody holds leave the file. */
  drop(digests: readonly Digest[], lease: BlobLease): Promise<void> {
    let gone = false;
    for (const d of digests) {
      const n = this.#counts.get(d) ?? 0;
      if (n <= 1) {
        this.#counts.delete(d);
        gone = true;
      } else this.#counts.set(d, n - 1);
    }
    if (lease.size === 0) this.#open.delete(lease);
    if (!gone) return this.#serial(async () => {});
    // The file is rewritten from the counts as they are when the write runs, so
    // a digest leased again meanwhile is never left out.
    return this.#serial(async () => {
      if (this.#counts.size === 0) await unlink(this.#file).catch(() => {});
      else await writeFileAtomic(this.#file, [...this.#counts.keys()].map((d) => `${d}\n`).join(""));
    });
  }

  /** track keeps a lease that holds something among the open ones (close releases them). */
  track(lease: BlobLease): void {
    this.#open.add(lease);
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(fn);
    this.#queue = next.catch(() => {});
    return next;
  }
}

/**
 * BlobLease is one operation's hold on blobs (from
 * {@link ImageStore.lease}): a digest added to it is protected from garbage
 * collection, in this and every other process, until this lease releases it
 * or the store is closed, whatever other leases on the same digests do.
 * Adding a digest it already holds changes nothing.
 */
export class BlobLease {
  readonly #leases: Leases;
  readonly #held = new Set<Digest>();

  /** use {@link ImageStore.lease}. */
  constructor(leases: Leases) {
    this.#leases = leases;
  }

  /** size is how many digests this lease holds. */
  get size(): number {
    return this.#held.size;
  }

  /** holds tells whether this lease holds `d`. */
  holds(d: Digest): boolean {
    return this.#held.has(d);
  }

  /** add leases `digests`; the lease is on disk (visible to other processes' gc) when it resolves. */
  add(digests: Iterable<Digest>): Promise<void> {
    const fresh = [...new Set(digests)].filter((d) => !this.#held.has(d));
    if (fresh.length > 0) this.#leases.track(this);
    for (const d of fresh) this.#held.add(d);
    return this.#leases.acquire(fresh);
  }

  /** release ends this lease's hold on `digests` (default: all it holds); other leases keep theirs. */
  release(digests?: Iterable<Digest>): Promise<void> {
    const mine =
      digests === undefined ? [...this.#held] : [...new Set(digests)].filter((d) => this.#held.has(d));
    for (const d of mine) this.#held.delete(d);
    return this.#leases.drop(mine, this);
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
