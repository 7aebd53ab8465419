import { promisify } from "node:util";
import * as zlib from "node:zlib";

/**
 * gzip-parallel compresses one stream as a single gzip member whose deflate
 * data is produced in independent fixed-size blocks on the libuv threadpool,
 * the way pigz does: each block is raw-deflated with the previous 32 KiB of
 * input as its dictionary and ends in a sync flush (the last one in a final
 * block), so the concatenation is one valid deflate stream. Block boundaries
 * depend only on the input bytes, so the output is deterministic, and two
 * cores compress at once. The CRC-32 of the whole input is computed as it
 * passes.
 */

const deflateRaw = promisify(zlib.deflateRaw) as (buf: Buffer, opts: zlib.ZlibOptions) => Promise<Buffer>;

export interface ParallelGzipOptions {
  level?: number;
  /** blockSize is the uncompressed size of each independently deflated block (default 1 MiB). */
  blockSize?: number;
  /**
   * concurrency is how many blocks are compressed at once (default 3: libuv's
   * threadpool has 4 threads, and one stays free for file reads).
   */
  concurrency?: number;
}

const DICT = 32 * 1024;

let crcTable: Uint32Array | undefined;
function jsCrc32(buf: Uint8Array, crc: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < buf.length; i++) c = crcTable[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

type Crc32 = (buf: Uint8Array, crc: number) => number;
/** crc32 uses zlib.crc32 (Node ≥20.15) when present, else a table-driven fallback. */
export const crc32: Crc32 = (zlib as unknown as { crc32?: Crc32 }).crc32 ?? jsCrc32;

/** gzipHeader is the 10-byte member header: no name, mtime 0, OS unix — what zlib.gzip writes. */
function gzipHeader(level: number): Buffer {
  const xfl = level === 9 ? 2 : level === 1 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]);
}

/** parallelGzip transforms an async iterable of bytes into gzip bytes, in order. */
export async function* parallelGzip(
  source: AsyncIterable<Uint8Array>,
  opts: ParallelGzipOptions = {},
): AsyncGenerator<Buffer> {
  const level = opts.level ?? 6;
  const blockSize = opts.blockSize ?? 1024 * 1024;
  const concurrency = opts.concurrency ?? 3;
  yield gzipHeader(level);
  let crc = 0;
  let total = 0;
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let dict: Buffer | undefined;
  const queue: Promise<Buffer>[] = [];

  const start = (block: Buffer, last: boolean): void => {
    const o: zlib.ZlibOptions = {
      level,
      // One output buffer for the whole block, so each block is a single
      // threadpool job that never waits for the (busy) main thread mid-block.
      chunkSize: block.length + (block.length >> 3) + 64 * 1024,
      finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
    };
    if (dict) o.dictionary = dict;
    const p = deflateRaw(block, o);
    p.catch(() => {}); // observed when awaited; avoid an unhandled rejection meanwhile
    queue.push(p);
    dict =
      block.length >= DICT
        ? block.subarray(block.length - DICT)
        : Buffer.concat([dict ?? Buffer.alloc(0), block]).subarray(-DICT);
  };

  for await (const chunk of source) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    crc = crc32(buf, crc);
    total += buf.length;
    pending.push(buf);
    pendingLen += buf.length;
    // A block is cut only when more input follows it, so the last block is always known.
    while (pendingLen > blockSize) {
      const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLen);
      start(all.subarray(0, blockSize), false);
      const rest = all.subarray(blockSize);
      pending = [rest];
      pendingLen = rest.length;
      while (queue.length >= concurrency) yield await queue.shift()!;
    }
  }
  start(pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLen), true);
  while (queue.length > 0) yield await queue.shift()!;
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(total % 2 ** 32, 4);
  yield trailer;
}
