import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { appendFile, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Digest, type ImageStore, OciError } from "@tsbuild/oci";
import type { LayerRef } from "./layer-index.js";

/**
 * CacheRecord is what one executed step leaves for the next build with the same key: the layer it made
 * (none for metadata steps or a step that changed nothing) and when it ran (history `created`, so a
 * rebuild that hits everywhere writes the same config and the same image id). It holds no local path,
 * id or host name, so records can be exported to a registry or a directory unchanged.
 */
export interface CacheRecord {
  key: string;
  layer?: LayerRef;
  /** created is the RFC 3339 time the step ran. */
  created: string;
  /** description is the step as progress shows it, for `builder du`. */
  description?: string;
}

/** stepKey hashes a parent key and the step's resolved inputs (any JSON value) into a content address. */
export function stepKey(parent: string, inputs: unknown): string {
  return `sha256:${createHash("sha256")
    .update(parent)
    .update("\0")
    .update(JSON.stringify(inputs))
    .digest("hex")}`;
}

/** BUILD_CACHE is the store subdirectory holding the build cache. */
export const BUILD_CACHE = "buildcache";

/**
 * BuildCache keeps step records as one JSON file per key under `<store>/buildcache/records`. The layers
 * they name stay in the store's blobs, kept from image GC by the `gcroots/buildcache` list until
 * `builder prune` drops the records.
 */
export class BuildCache {
  readonly dir: string;
  readonly #records: string;
  readonly #roots: string;

  constructor(readonly store: ImageStore) {
    this.dir = join(store.root, BUILD_CACHE);
    this.#records = join(this.dir, "records");
    this.#roots = join(store.root, "gcroots", "buildcache");
  }

  #file(key: string): string {
    return join(this.#records, `${key.replace(/^sha256:/, "")}.json`);
  }

  /** get returns the record for a key whose layer blob is still present, else undefined. */
  async get(key: string): Promise<CacheRecord | undefined> {
    let rec: CacheRecord;
    try {
      rec = JSON.parse(await readFile(this.#file(key), "utf8")) as CacheRecord;
    } catch {
      return undefined;
    }
    if (rec.key !== key) return undefined;
    // A layer adopted from an imported cache may be lazy: recorded where it can be fetched, not held.
    if (
      rec.layer &&
      !(await this.store.layout.hasBlob(rec.layer.digest)) &&
      !(await this.store.remoteBlob(rec.layer.digest))
    )
      return undefined;
    // The record's time is its last use, for `builder prune --filter until=…`.
    const now = new Date();
    await utimes(this.#file(key), now, now).catch(() => {});
    return rec;
  }

  /** put writes a record atomically; its layer becomes a GC root first. */
  async put(rec: CacheRecord): Promise<void> {
    await mkdir(this.#records, { recursive: true });
    if (rec.layer) {
      await mkdir(join(this.store.root, "gcroots"), { recursive: true });
      await appendFile(this.#roots, `${rec.layer.digest}\n`);
    }
    const file = this.#file(rec.key);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(rec));
    await rename(tmp, file);
  }

  /** records lists every record with its file's age. */
  async records(): Promise<{ record: CacheRecord; mtimeMs: number }[]> {
    let names: string[];
    try {
      names = await readdir(this.#records);
    } catch {
      return [];
    }
    const out: { record: CacheRecord; mtimeMs: number }[] = [];
    for (const n of names) {
      if (!n.endsWith(".json")) continue;
      const f = join(this.#records, n);
      try {
        const [text, st] = await Promise.all([readFile(f, "utf8"), stat(f)]);
        out.push({ record: JSON.parse(text) as CacheRecord, mtimeMs: st.mtimeMs });
      } catch {
        // a record being replaced or a torn file: skip it
      }
    }
    return out;
  }

  /**
   * prune removes records whose layer no image uses (with `all`, every record), only those last used before
   * `until` (epoch ms) when given; then it rewrites the GC roots to the layers of the records left and lets
   * the store collect what nothing else uses. It returns what went and the bytes the store reclaimed.
   */
  async prune(options: { all?: boolean; until?: number; inUse?: ReadonlySet<string> } = {}): Promise<{
    removed: CacheRecord[];
    bytes: number;
  }> {
    try {
      return await this.#prune(options);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EROFS" || code === "EACCES" || code === "EPERM") {
        throw new OciError("READ_ONLY", `the image store is read-only, cannot prune the build cache`, {
          where: this.store.root,
          cause: err,
        });
      }
      throw err;
    }
  }

  async #prune(options: { all?: boolean; until?: number; inUse?: ReadonlySet<string> }): Promise<{
    removed: CacheRecord[];
    bytes: number;
  }> {
    const all = await this.records();
    // Nothing recorded: nothing to write (a read-only or fresh store stays untouched).
    if (all.length === 0 && !existsSync(this.#roots)) return { removed: [], bytes: 0 };
    const keep: Digest[] = [];
    const removed: CacheRecord[] = [];
    for (const { record, mtimeMs } of all) {
      const old = options.until === undefined || mtimeMs < options.until;
      const unused = !record.layer || !options.inUse?.has(record.layer.digest);
      if (old && (options.all || (unused && record.layer))) {
        await rm(this.#file(record.key), { force: true });
        removed.push(record);
      } else if (record.layer) keep.push(record.layer.digest);
    }
    await mkdir(join(this.store.root, "gcroots"), { recursive: true });
    const tmp = `${this.#roots}.${process.pid}.tmp`;
    await writeFile(tmp, keep.map((d) => `${d}\n`).join(""));
    await rename(tmp, this.#roots);
    if (removed.length === all.length) {
      await rm(join(this.dir, "index"), { recursive: true, force: true });
      await rm(join(this.dir, "statcache"), { recursive: true, force: true });
    }
    const gc = await this.store.gc();
    return { removed, bytes: gc.reclaimedBytes };
  }
}
