import { mkdir, readdir, readFile, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type Digest, digestAlgorithm, digestHex, isDigest } from "../digest.js";
import { isErrno, writeFileAtomic } from "../layout/fsutil.js";
import type { BlobSource } from "../layout/layout.js";
import type { Descriptor } from "../types.js";

/** REMOTE_DIR is the store directory (beside `blobs/`) recording where absent (lazy) blobs can be fetched. */
export const REMOTE_DIR = "remote-blobs";

/** RemoteBlob says where a blob the store does not hold can be fetched: a repository on a registry. */
export interface RemoteBlob {
  readonly digest: Digest;
  readonly size: number;
  readonly mediaType: string;
  /** registry is the registry host as references name it (`docker.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  readonly repository: string;
}

/**
 * BlobFetcher streams a remote blob's bytes (the registry client provides
 * one: registry-client's `blobFetcher`). The store verifies what it returns
 * against the digest and size before keeping it.
 */
export type BlobFetcher = (blob: RemoteBlob, options: { signal?: AbortSignal }) => BlobSource;

/**
 * RemoteBlobs records, one small JSON file per blob under `remote-blobs/<alg>/<hex>`,
 * where a blob that an image names but the store does not hold can be
 * fetched (a lazily resolved base image's layers). A record's content is a
 * function of the facts, written atomically: concurrent writers agree.
 */
export class RemoteBlobs {
  readonly #dir: string;

  constructor(root: string) {
    this.#dir = join(root, REMOTE_DIR);
  }

  #path(d: Digest): string {
    return join(this.#dir, digestAlgorithm(d), digestHex(d));
  }

  /** record notes that the blobs live in `registry/repository`. */
  async record(registry: string, repository: string, blobs: readonly Descriptor[]): Promise<void> {
    for (const b of blobs) {
      const path = this.#path(b.digest);
      await mkdir(dirname(path), { recursive: true });
      const rec: RemoteBlob = {
        digest: b.digest,
        size: b.size,
        mediaType: b.mediaType,
        registry,
        repository,
      };
      await writeFileAtomic(path, `${JSON.stringify(rec)}\n`);
    }
  }

  /** get returns the record of `digest`, or undefined (none, or unreadable). */
  async get(digest: Digest): Promise<RemoteBlob | undefined> {
    const text = await readFile(this.#path(digest), "utf8").catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      const v = JSON.parse(text) as Partial<RemoteBlob>;
      if (
        v.digest !== digest ||
        !isDigest(v.digest) ||
        typeof v.registry !== "string" ||
        typeof v.repository !== "string" ||
        typeof v.size !== "number"
      )
        return undefined;
      return { mediaType: "", ...v } as RemoteBlob;
    } catch {
      return undefined;
    }
  }

  /** prune drops the records of blobs `keep` does not hold (no image names them any more); it returns how many. */
  async prune(keep: ReadonlySet<Digest>): Promise<number> {
    let dropped = 0;
    for (const alg of await readdir(this.#dir).catch(() => [])) {
      for (const hex of await readdir(join(this.#dir, alg)).catch(() => [])) {
        const d = `${alg}:${hex}`;
        if (!isDigest(d) || keep.has(d)) continue;
        await unlink(join(this.#dir, alg, hex)).catch((err: unknown) => {
          if (!isErrno(err, "ENOENT")) throw err;
        });
        dropped++;
      }
    }
    return dropped;
  }
}
