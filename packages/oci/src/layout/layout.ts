import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import {
  type FileHandle,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
} from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { canonicalJson } from "../canonical-json.js";
import {
  type Digest,
  type DigestAlgorithm,
  digestAlgorithm,
  digestHex,
  digestOf,
  isDigest,
  parseDigest,
  verifyDigest,
} from "../digest.js";
import { OciError } from "../errors.js";
import { parseIndex } from "../manifest.js";
import type { Index } from "../types.js";
import {
  fileError,
  fsyncDir,
  isErrno,
  isProcessAlive,
  pidOfTempName,
  tempName,
  writeFileAtomic,
} from "./fsutil.js";
import { reachableBlobs } from "./reachable.js";

/** OCI_LAYOUT_VERSION is the `imageLayoutVersion` this code writes and reads. */
export const OCI_LAYOUT_VERSION = "1.0.0";

/** TEMP_DIR is where blobs are streamed before they are verified and renamed into `blobs/`. */
const TEMP_DIR = ".tmp";

export type BlobSource = Uint8Array | AsyncIterable<Uint8Array> | Readable;

export interface OpenLayoutOptions {
  /** create makes the directory, `oci-layout` and an empty `index.json` when missing. */
  readonly create?: boolean;
  /**
   * beforeCommit runs for every blob digest just before the blob becomes
   * visible under `blobs/` (or is found already there). The image store uses it
   * to lease blobs so a concurrent garbage collection does not delete them
   * before the image that uses them is added to the index.
   */
  readonly beforeCommit?: (digest: Digest) => Promise<void>;
}

export interface WriteBlobOptions {
  readonly signal?: AbortSignal;
  /** beforeCommit replaces the layout's {@link OpenLayoutOptions.beforeCommit} for this write (e.g. the writer's own lease). */
  readonly beforeCommit?: (digest: Digest) => Promise<void>;
  /**
   * tap sees every chunk as it is written (the store measures layers this
   * way); a promise it returns holds the next chunk back until it settles.
   * A blob already present is not read, so tap sees nothing.
   */
  readonly tap?: (chunk: Uint8Array) => Promise<unknown> | undefined;
}

export interface GcOptions {
  /**
   * keep lists extra roots (blobs in use by something the index does not name
   * yet). A function is called after the blobs are listed, so a lease taken
   * before a blob was renamed into place is always seen.
   */
  readonly keep?: Iterable<Digest> | (() => Promise<Iterable<Digest>>);
  /** minAgeMs spares unreferenced blobs younger than this (default 0: delete all unreferenced). */
  readonly minAgeMs?: number;
}

export interface GcResult {
  readonly removed: readonly Digest[];
  readonly reclaimedBytes: number;
}

/**
 * OciLayout is an OCI image layout directory (`oci-layout`, `index.json`,
 * `blobs/<alg>/<hex>`). Every write is atomic: blobs are streamed to a temp
 * file while hashed, verified, fsynced and renamed into place, and index.json
 * is replaced by rename, so a killed process never leaves a partial blob or a
 * torn index visible. Concurrent writers of index.json must serialise
 * themselves (the image store holds a lock); blob writes need no lock.
 */
export class OciLayout {
  readonly root: string;
  readonly #beforeCommit: ((digest: Digest) => Promise<void>) | undefined;

  private constructor(root: string, options: OpenLayoutOptions) {
    this.root = root;
    this.#beforeCommit = options.beforeCommit;
  }

  /** open checks (or with `create`, makes) a layout at `dir`. */
  static async open(dir: string, options: OpenLayoutOptions = {}): Promise<OciLayout> {
    const layout = new OciLayout(dir, options);
    if (options.create) await layout.#create();
    await layout.#checkLayoutFile();
    return layout;
  }

  async #create(): Promise<void> {
    // A layout that exists is opened without writing anything, so reading works on a full disk or
    // a read-only file system.
    if (await isFile(join(this.root, "oci-layout"))) return;
    try {
      await this.#make();
    } catch (err) {
      throw fileError(err, `creating an image layout in ${this.root}`, this.root);
    }
  }

  async #make(): Promise<void> {
    await mkdir(join(this.root, "blobs", "sha256"), { recursive: true });
    // index.json first, oci-layout last: an oci-layout file says the layout was made, so an
    // index.json missing beside it is damage for readIndex to report, not a new empty index
    // that hides every image (and lets the next gc delete all their blobs).
    const made = await stat(join(this.root, "oci-layout")).then(
      () => true,
      () => false,
    );
    if (!made) {
      await createIfMissing(
        join(this.root, "index.json"),
        canonicalJson({ schemaVersion: 2, manifests: [] }),
      );
    }
    await createIfMissing(
      join(this.root, "oci-layout"),
      canonicalJson({ imageLayoutVersion: OCI_LAYOUT_VERSION }),
    );
  }

  async #checkLayoutFile(): Promise<void> {
    const path = join(this.root, "oci-layout");
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      throw new OciError("INVALID_LAYOUT", "not an OCI image layout (no oci-layout file)", {
        where: this.root,
        cause: err,
      });
    }
    let version: unknown;
    try {
      version = (JSON.parse(text) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
    } catch (err) {
      throw new OciError("INVALID_LAYOUT", "oci-layout is not valid JSON", { where: path, cause: err });
    }
    if (typeof version !== "string" || !/^1\.\d+\.\d+$/.test(version)) {
      throw new OciError("INVALID_LAYOUT", `unsupported imageLayoutVersion ${JSON.stringify(version)}`, {
        where: path,
      });
    }
  }

  /** blobPath is where the blob with digest `d` lives (whether or not it exists). */
  blobPath(d: Digest | string): string {
    const digest = parseDigest(d);
    return join(this.root, "blobs", digestAlgorithm(digest), digestHex(digest));
  }

  async hasBlob(d: Digest | string): Promise<boolean> {
    try {
      return (await stat(this.blobPath(d))).isFile();
    } catch (err) {
      if (isErrno(err, "ENOENT")) return false;
      throw err;
    }
  }

  /** blobSize is the stored size of a blob; BLOB_NOT_FOUND when it is absent. */
  async blobSize(d: Digest | string): Promise<number> {
    try {
      return (await stat(this.blobPath(d))).size;
    } catch (err) {
      throw notFoundOr(err, d, this.root);
    }
  }

  /** readBlob reads a (small) blob whole and verifies it against its digest. */
  async readBlob(d: Digest | string): Promise<Buffer> {
    const digest = parseDigest(d);
    let data: Buffer;
    try {
      data = await readFile(this.blobPath(digest));
    } catch (err) {
      throw notFoundOr(err, digest, this.root);
    }
    verifyDigest(
      { digest },
      { digest: digestOf(data, digestAlgorithm(digest)), size: data.length },
      this.blobPath(digest),
    );
    return data;
  }

  /** openBlob streams a blob; throws BLOB_NOT_FOUND at once when it is absent. */
  openBlob(d: Digest | string): Readable {
    const path = this.blobPath(d);
    try {
      statSync(path);
    } catch (err) {
      throw notFoundOr(err, d, this.root);
    }
    return createReadStream(path);
  }

  /**
   * writeBlob streams `source` into the layout, hashing as it writes. With
   * `expected`, the digest and size are verified (DIGEST_MISMATCH /
   * SIZE_MISMATCH, nothing kept) and a blob already present is not rewritten.
   */
  async writeBlob(
    source: BlobSource,
    expected?: { digest: Digest | string; size?: number },
    options: WriteBlobOptions = {},
  ): Promise<{ digest: Digest; size: number }> {
    const want = expected && { digest: parseDigest(expected.digest), size: expected.size };
    const beforeCommit = options.beforeCommit ?? this.#beforeCommit;
    if (want) {
      await beforeCommit?.(want.digest);
      const existing = await this.#existingSize(want.digest);
      if (existing !== undefined) {
        discard(source);
        if (want.size !== undefined && want.size !== existing) {
          throw new OciError("SIZE_MISMATCH", `expected ${want.size} bytes, stored blob has ${existing}`, {
            where: want.digest,
          });
        }
        return { digest: want.digest, size: existing };
      }
    }
    const algorithm: DigestAlgorithm = want ? digestAlgorithm(want.digest) : "sha256";
    const tmpDir = join(this.root, TEMP_DIR);
    const tmp = join(tmpDir, tempName("blob"));
    let actual: { digest: Digest; size: number };
    try {
      await mkdir(tmpDir, { recursive: true });
      actual = await streamToFile(source, tmp, { algorithm, maxSize: want?.size, ...options });
      if (want) verifyDigest(want, actual, want.digest);
      if (!want) await beforeCommit?.(actual.digest);
      const final = this.blobPath(actual.digest);
      if ((await this.#existingSize(actual.digest)) !== undefined) {
        await unlink(tmp);
      } else {
        await mkdir(dirname(final), { recursive: true });
        await rename(tmp, final);
        await fsyncDir(dirname(final));
      }
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw fileError(err, `writing a blob to ${this.root}`, tmp);
    }
    return actual;
  }

  /** writeJson stores `value` as a canonical JSON blob (stable bytes, so a stable digest). */
  async writeJson(value: unknown): Promise<{ digest: Digest; size: number }> {
    const bytes = canonicalJson(value);
    return this.writeBlob(bytes, { digest: digestOf(bytes), size: bytes.length });
  }

  /** readIndex reads and validates index.json. */
  async readIndex(): Promise<Index> {
    const path = join(this.root, "index.json");
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw new OciError("INVALID_LAYOUT", "cannot read index.json", { where: path, cause: err });
    }
    try {
      return parseIndex(bytes);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new OciError("INVALID_LAYOUT", `index.json is invalid: ${detail}`, { where: path, cause: err });
    }
  }

  /** writeIndex replaces index.json atomically (temp file + rename). */
  async writeIndex(index: Index): Promise<void> {
    const path = join(this.root, "index.json");
    await writeFileAtomic(path, canonicalJson(index)).catch((err: unknown) => {
      throw fileError(err, `writing ${path}`, path);
    });
  }

  /** listBlobs lists every stored blob digest (files named like digests under blobs/<alg>/). */
  async listBlobs(): Promise<Digest[]> {
    const out: Digest[] = [];
    const blobs = join(this.root, "blobs");
    for (const alg of await readdirOrEmpty(blobs)) {
      for (const hex of await readdirOrEmpty(join(blobs, alg))) {
        const d = `${alg}:${hex}`;
        if (isDigest(d)) out.push(d);
      }
    }
    return out;
  }

  /** deleteBlob removes a blob; absent is fine. */
  async deleteBlob(d: Digest | string): Promise<void> {
    await unlink(this.blobPath(d)).catch((err: unknown) => {
      if (!isErrno(err, "ENOENT")) throw err;
    });
  }

  /**
   * gc deletes blobs not reachable from index.json (through indexes,
   * manifests, configs and layers) and the temp debris of dead processes.
   * Callers that share the layout with concurrent writers hold their lock and
   * pass leased digests in `keep`.
   */
  async gc(options: GcOptions = {}): Promise<GcResult> {
    // List blobs before computing roots: a blob renamed in after the listing is spared.
    const blobs = await this.listBlobs();
    const reachable = await reachableBlobs(this, (await this.readIndex()).manifests);
    const keep = typeof options.keep === "function" ? await options.keep() : (options.keep ?? []);
    for (const d of keep) reachable.add(d);
    const removed: Digest[] = [];
    let reclaimedBytes = 0;
    const now = Date.now();
    for (const d of blobs) {
      if (reachable.has(d)) continue;
      const path = this.blobPath(d);
      const st = await lstat(path).catch(() => undefined);
      if (!st) continue;
      if (options.minAgeMs !== undefined && now - st.mtimeMs < options.minAgeMs) continue;
      await this.deleteBlob(d);
      removed.push(d);
      reclaimedBytes += st.size;
    }
    await this.cleanTemp();
    return { removed, reclaimedBytes };
  }

  /** cleanTemp removes temp files left by processes that no longer run. */
  async cleanTemp(): Promise<void> {
    const dirs: [string, string[]][] = [
      [join(this.root, TEMP_DIR), await readdirOrEmpty(join(this.root, TEMP_DIR))],
      [this.root, (await readdirOrEmpty(this.root)).filter((n) => n.startsWith(".tmp-"))],
    ];
    for (const [dir, names] of dirs) {
      for (const name of names) {
        const pid = pidOfTempName(name);
        if (pid !== undefined && !isProcessAlive(pid)) await unlink(join(dir, name)).catch(() => {});
      }
    }
  }

  async #existingSize(d: Digest): Promise<number | undefined> {
    try {
      const st = await stat(this.blobPath(d));
      return st.isFile() ? st.size : undefined;
    } catch (err) {
      if (isErrno(err, "ENOENT")) return undefined;
      throw err;
    }
  }
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (st) => st.isFile(),
    () => false,
  );
}

function notFoundOr(err: unknown, d: string, root: string): unknown {
  if (isErrno(err, "ENOENT"))
    return new OciError("BLOB_NOT_FOUND", "blob not found", { where: d, cause: err });
  return fileError(err, `reading blob ${d} of ${root}`);
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isErrno(err, "ENOENT") || isErrno(err, "ENOTDIR")) return [];
    throw err;
  }
}

/** createIfMissing writes a file only when absent, atomically (link fails if the target exists). */
async function createIfMissing(path: string, data: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${tempName("tmp")}`);
  const h = await open(tmp, "wx", 0o644);
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
  try {
    await link(tmp, path);
  } catch (err) {
    if (!isErrno(err, "EEXIST")) throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

function discard(source: BlobSource): void {
  if (typeof (source as Readable).destroy === "function") (source as Readable).destroy();
}

async function* chunks(source: BlobSource): AsyncIterable<Uint8Array> {
  if (source instanceof Uint8Array) yield source;
  else yield* source as AsyncIterable<Uint8Array>;
}

async function streamToFile(
  source: BlobSource,
  path: string,
  options: {
    algorithm: DigestAlgorithm;
    maxSize: number | undefined;
    signal?: AbortSignal | undefined;
    tap?: ((chunk: Uint8Array) => Promise<unknown> | undefined) | undefined;
  },
): Promise<{ digest: Digest; size: number }> {
  const { algorithm, maxSize, signal, tap } = options;
  const hash = createHash(algorithm);
  let size = 0;
  const h = await open(path, "wx", 0o644);
  // Chunks are hashed as they come and written in writev batches of about
  // WRITE_BATCH bytes, one batch in flight while the next gathers: one
  // thread-pool round trip per MiB instead of per 64 KiB network chunk
  // (the pull of a 69 MB layer spent a third of its time waiting on them).
  // Sources must not reuse a chunk after yielding it, as Node streams never do.
  let batch: Uint8Array[] = [];
  let batched = 0;
  let writing: Promise<void> | undefined;
  // A write that fails while the next chunk is awaited must not be an unhandled rejection (it
  // crashed the process on a full disk): its error is kept and thrown by the loop.
  let failed: { err: unknown } | undefined;
  const flush = async (): Promise<void> => {
    await writing;
    const bufs = batch;
    batch = [];
    batched = 0;
    writing = undefined;
    if (bufs.length === 0) return;
    writing = writeAll(h, bufs);
    writing.catch((err: unknown) => {
      failed ??= { err };
    });
  };
  try {
    for await (const chunk of chunks(source)) {
      if (failed) throw failed.err;
      signal?.throwIfAborted();
      size += chunk.length;
      if (maxSize !== undefined && size > maxSize) {
        discard(source);
        throw new OciError("SIZE_MISMATCH", `expected ${maxSize} bytes, got more`);
      }
      hash.update(chunk);
      const tapped = tap?.(chunk);
      if (tapped) await tapped;
      batch.push(chunk);
      batched += chunk.length;
      if (batched >= WRITE_BATCH) await flush();
    }
    await flush();
    await writing;
    signal?.throwIfAborted();
    await h.sync();
  } finally {
    await writing?.catch(() => {});
    await h.close();
  }
  return { digest: `${algorithm}:${hash.digest("hex")}` as Digest, size };
}

/** WRITE_BATCH is how many bytes streamToFile gathers into one writev. */
const WRITE_BATCH = 1024 * 1024;

/** writeAll writes every buffer at the file position, continuing after short writes. */
async function writeAll(h: FileHandle, bufs: Uint8Array[]): Promise<void> {
  let rest = bufs;
  for (;;) {
    let { bytesWritten } = await h.writev(rest);
    while (rest.length > 0 && bytesWritten >= (rest[0] as Uint8Array).length) {
      bytesWritten -= (rest[0] as Uint8Array).length;
      rest = rest.slice(1);
    }
    if (rest.length === 0) return;
    rest = [(rest[0] as Uint8Array).subarray(bytesWritten), ...rest.slice(1)];
  }
}
