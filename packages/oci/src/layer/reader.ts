import { createHash } from "node:crypto";
import { type PassThrough, Readable } from "node:stream";
import * as zlib from "node:zlib";
import { extract, type Header } from "tar-stream";
import type { Digest } from "../digest.js";
import { OciError } from "../errors.js";
import type { LayerEntryType } from "./entry.js";
import { pathFromBytes } from "./path-bytes.js";
import { PaxXattrTap, type RawEntryFields } from "./pax-tap.js";

/** TarEntryInfo is one decoded tar entry, with PAX overrides already applied. */
export interface TarEntryInfo {
  /**
   * name is the raw entry name from the archive (not yet made safe). Bytes
   * that are not UTF-8 are escaped as path-bytes.ts describes (so
   * pathToBytes(name) gives the header's bytes back); so is `linkname`.
   */
  name: string;
  /** type is undefined for entry kinds a layer cannot hold (tar-stream's name is in `rawType`). */
  type: LayerEntryType | undefined;
  rawType: string;
  mode: number;
  uid: number;
  gid: number;
  /** mtime in seconds since the epoch. */
  mtime: number;
  size: number;
  linkname: string | undefined;
  devmajor: number;
  devminor: number;
  /** xattrs from PAX `SCHILY.xattr.*` records, as raw bytes. */
  xattrs: Record<string, Buffer>;
}

export interface ReadTarOptions {
  /** maxEntrySize rejects any entry whose header claims more bytes (default 64 GiB). */
  maxEntrySize?: number;
  signal?: AbortSignal;
}

const DEFAULT_MAX_ENTRY = 64 * 1024 ** 3;

const TYPE_MAP: Record<string, LayerEntryType> = {
  file: "file",
  "contiguous-file": "file",
  link: "hardlink",
  symlink: "symlink",
  directory: "dir",
  "character-device": "char",
  "block-device": "block",
  fifo: "fifo",
};

function toInfo(h: Header, raw: RawEntryFields | undefined): TarEntryInfo {
  const pax = (h.pax ?? {}) as Record<string, string>;
  const num = (key: string, fallback: number): number => {
    const v = pax[key];
    if (v === undefined) return fallback;
    const n = Number(v);
    return Number.isFinite(n) ? n : fallback;
  };
  // Raw bytes from the tap where it saw them; tar-stream's UTF-8 text otherwise (e.g. global PAX headers).
  const xattrs: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(pax))
    if (k.startsWith("SCHILY.xattr.")) xattrs[k.slice(13)] = Buffer.from(v);
  if (raw?.xattrs) Object.assign(xattrs, raw.xattrs);
  const linkname = raw?.linkname ? pathFromBytes(raw.linkname) : (h.linkname ?? undefined);
  return {
    name: raw?.name ? pathFromBytes(raw.name) : h.name,
    type: TYPE_MAP[h.type ?? "file"],
    rawType: h.type ?? "file",
    mode: (h.mode ?? 0) & 0o7777,
    uid: num("uid", h.uid ?? 0),
    gid: num("gid", h.gid ?? 0),
    mtime: Math.floor(num("mtime", Math.floor((h.mtime?.getTime() ?? 0) / 1000))),
    size: h.size ?? 0,
    linkname,
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
    xattrs,
  };
}

/** Compression of a layer stream as sniffed from its first bytes. */
export type SniffedCompression = "gzip" | "zstd" | "none";

/** sniffCompression reads the first bytes of `source` and returns the compression plus a stream that still starts at byte 0. */
export async function sniffCompression(
  source: AsyncIterable<Uint8Array>,
): Promise<{ compression: SniffedCompression; stream: Readable }> {
  const it = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let len = 0;
  let done = false;
  while (len < 4) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length);
    head.push(b);
    len += b.length;
  }
  const first = Buffer.concat(head);
  const compression: SniffedCompression =
    first[0] === 0x1f && first[1] === 0x8b
      ? "gzip"
      : first.readUInt32LE(0) === 0xfd2fb528 && first.length >= 4
        ? "zstd"
        : "none";
  async function* rest(): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length);
    }
  }
  return { compression, stream: Readable.from(rest(), { objectMode: false }) };
}

/** decompressed returns the tar bytes of a layer stream that may be gzip-compressed (or zstd, where Node supports it). */
export async function decompressed(source: AsyncIterable<Uint8Array>): Promise<Readable> {
  const { compression, stream } = await sniffCompression(source);
  if (compression === "none") return stream;
  if (compression === "gzip") {
    const gunzip = zlib.createGunzip();
    stream.on("error", (e) => gunzip.destroy(e));
    return stream.pipe(gunzip);
  }
  const zstd = (zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream })
    .createZstdDecompress;
  if (!zstd) {
    throw new OciError(
      "UNSUPPORTED_MEDIA_TYPE",
      `zstd-compressed layers need Node.js with zlib zstd support (this is ${process.version})`,
    );
  }
  const z = zstd() as unknown as PassThrough;
  stream.on("error", (e) => z.destroy(e));
  return stream.pipe(z);
}

/**
 * tarEntries decodes a (possibly compressed) tar stream entry by entry. Each
 * body must be consumed or resumed before the next entry arrives.
 */
export async function* tarEntries(
  source: AsyncIterable<Uint8Array>,
  opts: ReadTarOptions = {},
): AsyncGenerator<{ info: TarEntryInfo; body: Readable }> {
  const max = opts.maxEntrySize ?? DEFAULT_MAX_ENTRY;
  const tar = await decompressed(source);
  const tap = new PaxXattrTap();
  const ex = extract();
  tar.on("error", (e) => ex.destroy(e));
  tap.on("error", (e) => ex.destroy(e));
  tar.pipe(tap).pipe(ex);
  let index = 0;
  let last = "(start of archive)";
  try {
    for await (const entry of ex) {
      opts.signal?.throwIfAborted();
      const info = toInfo(entry.header, tap.rawFor(index++));
      last = info.name;
      if (info.size > max || info.size < 0 || !Number.isSafeInteger(info.size)) {
        throw new OciError("INVALID_TAR", `entry claims ${info.size} bytes, more than the limit of ${max}`, {
          where: info.name,
        });
      }
      yield { info, body: entry as unknown as Readable };
      (entry as unknown as Readable).resume();
    }
  } catch (err) {
    if (err instanceof OciError) throw err;
    if ((err as { name?: string }).name === "AbortError") throw err;
    throw new OciError(
      "INVALID_TAR",
      `cannot read tar after entry ${JSON.stringify(last)}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  } finally {
    tar.destroy();
    tap.destroy();
    ex.destroy();
  }
}

/** LayerEntryInfo is what readLayerEntries reports per entry: the header plus the content digest of files. */
export interface LayerEntryInfo extends TarEntryInfo {
  digest?: Digest;
}

/** readLayerEntries lists every entry of a layer stream (gzip or plain), hashing file contents; for tests and inspection. */
export async function readLayerEntries(
  source: AsyncIterable<Uint8Array>,
  opts: ReadTarOptions = {},
): Promise<LayerEntryInfo[]> {
  const out: LayerEntryInfo[] = [];
  for await (const { info, body } of tarEntries(source, opts)) {
    const e: LayerEntryInfo = { ...info };
    if (info.type === "file") {
      const h = createHash("sha256");
      for await (const c of body) h.update(c as Buffer);
      e.digest = `sha256:${h.digest("hex")}` as Digest;
    }
    out.push(e);
  }
  return out;
}
