import { createHash } from "node:crypto";
import { createWriteStream, readFileSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Digest } from "../digest.js";
import { OciError } from "../errors.js";
import { comparePaths, entryDiskSize, type LayerEntry } from "./entry.js";
import { parallelGzip } from "./gzip-parallel.js";
import { fsPath } from "./path-bytes.js";
import { encodeTarHeader, TAR_TRAILER, tarPadding } from "./tar-header.js";
import { type WalkOptions, walkDirectory } from "./walk.js";

/**
 * LayerSource is what a layer is made from: a directory tree, an explicit
 * entry list, or an existing uncompressed tar stream (passed through byte for
 * byte, e.g. for `image import` of a tarball; only compressed and hashed).
 */
export type LayerSource =
  | ({ dir: string } & Pick<WalkOptions, "prefix" | "chown">)
  | { entries: LayerEntry[] }
  | { tar: AsyncIterable<Uint8Array> };

async function* asBuffers(src: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  for await (const c of src) yield Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.length);
}

export interface CreateLayerOptions {
  /** compression of the emitted stream; default gzip. */
  compression?: "gzip" | "none";
  /** level is the gzip level (default 6). */
  level?: number;
  /** sourceDateEpoch clamps every mtime to at most this many seconds (SOURCE_DATE_EPOCH). */
  sourceDateEpoch?: number;
  signal?: AbortSignal;
  /** blockSize and concurrency tune parallel gzip; output depends on blockSize, so keep the default for stable digests. */
  blockSize?: number;
  concurrency?: number;
}

/** LayerResult describes a finished layer. */
export interface LayerResult {
  /** diffId is the sha256 of the uncompressed tar (config rootfs.diff_ids). */
  diffId: Digest;
  /** digest is the sha256 of the emitted (compressed) bytes (manifest layer digest). */
  digest: Digest;
  /** size is the number of emitted bytes. */
  size: number;
  /** uncompressedSize is the number of tar bytes. */
  uncompressedSize: number;
  /**
   * diskSize is docker's SIZE for this layer ({@link entryDiskSize} summed);
   * undefined for a passed-through tar, whose entries are not parsed here.
   */
  diskSize: number | undefined;
}

export interface CreatedLayer {
  /** stream emits the layer bytes (compressed unless compression is "none"). */
  stream: Readable;
  /** result settles after the stream has been fully read. */
  result: Promise<LayerResult>;
}

/**
 * SMALL_FILE is the size up to which file contents are read synchronously:
 * on a warm page cache a sync read of a small file costs a few microseconds,
 * while the promise API costs four threadpool round trips (open, stat, read,
 * close) competing with the gzip blocks for the same threads.
 */
const SMALL_FILE = 256 * 1024;
const READ_CHUNK = 1024 * 1024;

function normalizeEntryPath(p: string): string {
  const parts = p.split("/").filter((c) => c !== "" && c !== ".");
  if (parts.length === 0 || parts.includes("..")) {
    throw new OciError("UNSAFE_TAR_ENTRY", "layer entry path must be relative and must not contain '..'", {
      where: p,
    });
  }
  return parts.join("/");
}

function contentBytes(e: LayerEntry): Buffer | undefined {
  const c = e.content;
  if (c === undefined) return Buffer.alloc(0);
  if (typeof c === "string") return Buffer.from(c);
  if (c instanceof Uint8Array) return Buffer.from(c.buffer, c.byteOffset, c.length);
  if (typeof c === "object" && "file" in c && (e.size ?? 0) <= SMALL_FILE)
    return readFileSync(fsPath(c.file));
  return undefined;
}

async function* streamContent(e: LayerEntry, size: number): AsyncGenerator<Buffer> {
  const c = e.content;
  if (typeof c === "function") {
    for await (const chunk of c()) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    return;
  }
  if (c && typeof c === "object" && "file" in c) {
    const fh = await open(fsPath(c.file), "r");
    try {
      let pos = 0;
      while (pos < size) {
        const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - pos));
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
      }
    } finally {
      await fh.close();
    }
  }
}

/** tarStream emits the tar bytes of `entries` (already sorted and normalised). */
async function* tarStream(
  entries: LayerEntry[],
  opts: CreateLayerOptions,
  tally: { diskSize: number },
): AsyncGenerator<Buffer> {
  const epoch = opts.sourceDateEpoch;
  // Headers are batched so that small files do not each cost a chunk downstream.
  let batch: Buffer[] = [];
  let batchLen = 0;
  for (let i = 0; i < entries.length; i++) {
    opts.signal?.throwIfAborted();
    const e = entries[i]!;
    let mtime = e.mtime ?? 0;
    if (epoch !== undefined && mtime > epoch) mtime = epoch;
    const isFile = e.type === "file";
    const data = isFile ? contentBytes(e) : undefined;
    const size = isFile ? (data ? data.length : (e.size ?? 0)) : 0;
    if (isFile && e.size !== undefined && size !== e.size) {
      throw new OciError("INVALID_TAR", `file size changed while packing: expected ${e.size}, read ${size}`, {
        where: e.path,
      });
    }
    tally.diskSize += isFile ? size : entryDiskSize(e);
    const header = encodeTarHeader({
      name: e.type === "dir" ? `${e.path}/` : e.path,
      type: e.type,
      mode: e.mode ?? (e.type === "dir" ? 0o755 : e.type === "symlink" ? 0o777 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      size,
      mtime,
      linkname: e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      xattrs: e.xattrs,
    });
    batch.push(header);
    batchLen += header.length;
    if (data) {
      if (data.length > 0) {
        batch.push(data);
        batchLen += data.length;
      }
    } else if (isFile) {
      if (batchLen > 0) {
        yield batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchLen);
        batch = [];
        batchLen = 0;
      }
      let got = 0;
      for await (const chunk of streamContent(e, size)) {
        got += chunk.length;
        if (got > size) break;
        yield chunk;
      }
      if (got !== size) {
        throw new OciError("INVALID_TAR", `file size changed while packing: expected ${size}, read ${got}`, {
          where: e.path,
        });
      }
    }
    const pad = isFile ? tarPadding(size) : 0;
    if (pad > 0) {
      batch.push(Buffer.alloc(pad));
      batchLen += pad;
    }
    if (batchLen >= 256 * 1024) {
      yield batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchLen);
      batch = [];
      batchLen = 0;
    }
  }
  batch.push(TAR_TRAILER);
  yield Buffer.concat(batch);
}

/** prepareEntries normalises paths, drops duplicates (the last wins) and sorts into layer order. */
export function prepareEntries(entries: LayerEntry[]): LayerEntry[] {
  const byPath = new Map<string, LayerEntry>();
  for (const e of entries) {
    const path = normalizeEntryPath(e.path);
    const linkname =
      e.type === "hardlink" && e.linkname !== undefined ? normalizeEntryPath(e.linkname) : e.linkname;
    byPath.set(path, { ...e, path, linkname });
  }
  return [...byPath.values()].sort((a, b) => comparePaths(a.path, b.path));
}

/**
 * createLayer packs a directory or an entry list into a deterministic tar
 * layer and, in the same pass, computes its diffID, digest and size. The
 * caller must consume `stream`; `result` settles when it ends.
 */
export function createLayer(source: LayerSource, opts: CreateLayerOptions = {}): CreatedLayer {
  const diffHash = createHash("sha256");
  const outHash = createHash("sha256");
  let uncompressedSize = 0;
  const tally = { diskSize: 0 };
  let size = 0;
  let resolve!: (r: LayerResult) => void;
  let reject!: (e: unknown) => void;
  const result = new Promise<LayerResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  result.catch(() => {});

  async function* tapped(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of src) {
      diffHash.update(chunk);
      uncompressedSize += chunk.length;
      yield chunk;
    }
  }

  async function* all(): AsyncGenerator<Buffer> {
    try {
      let tarBytes: AsyncIterable<Buffer>;
      if ("tar" in source) tarBytes = asBuffers(source.tar);
      else {
        const entries =
          "entries" in source
            ? prepareEntries(source.entries)
            : await walkDirectory(source.dir, {
                prefix: source.prefix,
                chown: source.chown,
                signal: opts.signal,
              });
        tarBytes = tarStream(entries, opts, tally);
      }
      const tar = tapped(tarBytes);
      const out =
        opts.compression === "none"
          ? tar
          : parallelGzip(tar, {
              level: opts.level,
              blockSize: opts.blockSize,
              concurrency: opts.concurrency,
            });
      for await (const chunk of out) {
        outHash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
      resolve({
        diffId: `sha256:${diffHash.digest("hex")}` as Digest,
        digest: `sha256:${outHash.digest("hex")}` as Digest,
        size,
        uncompressedSize,
        diskSize: "tar" in source ? undefined : tally.diskSize,
      });
    } catch (err) {
      reject(err);
      throw err;
    }
  }

  const stream = Readable.from(all(), { objectMode: false, highWaterMark: 1024 * 1024 });
  stream.on("close", () => {
    if (!stream.readableEnded)
      reject(new OciError("INVALID_TAR", "layer stream closed before it was fully read"));
  });
  return { stream, result };
}

/**
 * writeLayerTo creates a layer and writes it to a file (atomically, via a
 * temp file) or a writable stream, returning the layer's digests.
 */
export async function writeLayerTo(
  dest: Writable | string,
  source: LayerSource,
  opts: CreateLayerOptions = {},
): Promise<LayerResult> {
  const { stream, result } = createLayer(source, opts);
  if (typeof dest === "string") {
    const tmp = `${dest}.tmp-${process.pid}-${Date.now()}`;
    try {
      await pipeline(stream, createWriteStream(tmp), { signal: opts.signal });
      const r = await result;
      await rename(tmp, dest);
      return r;
    } catch (err) {
      // Cleanup must not replace the real error (an unwritable directory fails the rm's lstat too).
      await rm(tmp, { force: true }).catch(() => {});
      throw err;
    }
  }
  await pipeline(stream, dest, { signal: opts.signal });
  return result;
}
