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
 *
 * A digest new to the file is written under the store's index lock, which a
 * collection holds from reading the leases until it has deleted: so the
 * collection either finished before (a blob it deleted is then seen missing)
 * or sees the lease, and a blob found present after leasing stays. (Never
 * lease while holding that lock: it is not reentrant.)
 */
export class Leases {
  readonly #dir: string;
  readonly #file: string;
  readonly #counts = new Map<Digest, number>();
  /** #onDisk are the digests the file lists (each written under the lock). */
  readonly #onDisk = new Set<Digest>();
  readonly #open = new Set<BlobLease>();
  readonly #locked: (fn: () => Promise<void>) => Promise<void>;
  #queue: Promise<void> = Promise.resolve();

  /** `locked` runs its function under the store's index lock. */
  constructor(root: string, locked: (fn: () => Promise<void>) => Promise<void>) {
    this.#dir = join(root, ".tmp");
    this.#file = join(this.#dir, tempName("lease"));
    this.#locked = locked;
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

  /**
   * acquire counts one more holder of each digest; they are all on disk when
   * it resolves. Whatever is not on disk yet when its turn comes is written
   * then (also a digest whose first writer failed), so no caller returns
   * before its digests are listed.
   */
  acquire(digests: readonly Digest[]): Promise<void> {
    for (const d of digests) this.#counts.set(d, (this.#counts.get(d) ?? 0) + 1);
    return this.#serial(async () => {
      const missing = digests.filter((d) => this.#counts.has(d) && !this.#onDisk.has(d));
      if (missing.length === 0) return;
      await this.#locked(async () => {
        await mkdir(this.#dir, { recursive: true });
        await appendFile(this.#file, missing.map((d) => `${d}\n`).join(""));
      });
      for (const d of missing) this.#onDisk.add(d);
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
    // a digest leased again meanwhile is never left out; one not on disk yet is
    // left to its acquire, which writes it under the lock.
    return this.#serial(async () => {
      const keep = [...this.#onDisk].filter((d) => this.#counts.has(d));
      if (keep.length === 0) await unlink(this.#file).catch(() => {});
      else {
        try {
          await writeFileAtomic(this.#file, keep.map((d) => `${d}\n`).join(""));
        } catch {
          // A full disk or a read-only store: the old file stays, listing more than is held, which
          // only spares those blobs from collection until this process ends (or a later drop).
          return;
        }
      }
      this.#onDisk.clear();
      for (const d of keep) this.#onDisk.add(d);
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
    return this.#leases.acquire(fresh).catch(async (err: unknown) => {
      // Not on disk (e.g. LOCK_TIMEOUT): this lease does not hold them.
      await this.release(fresh);
      throw err;
    });
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
  const out = await gcRoots(root);
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

/** GC_ROOTS is the store directory whose files list digests kept for good (the build cache's layers). */
export const GC_ROOTS = "gcroots";

/**
 * gcRoots reads every file of `<root>/gcroots/`: digests that outlive any process (blobs the build cache
 * still refers to), so `image rm` and `prune` keep them until their owner (`builder prune`) lets go.
 */
export async function gcRoots(root: string): Promise<Set<Digest>> {
  const out = new Set<Digest>();
  const dir = join(root, GC_ROOTS);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (name.startsWith(".")) continue;
    const text = await readFile(join(dir, name), "utf8").catch(() => "");
    for (const line of text.split("\n")) if (isDigest(line)) out.add(line);
  }
  return out;
}
