import { Transform, type TransformCallback } from "node:stream";

/**
 * PaxXattrTap passes tar bytes through unchanged while following the archive
 * structure itself, to keep the raw bytes of PAX `SCHILY.xattr.*` values.
 * tar-stream decodes PAX values as UTF-8 text, which destroys binary values
 * such as `security.capability`; the tap sees every header before tar-stream
 * does, so by the time tar-stream emits entry N, `xattrsFor(N)` is known.
 */
export class PaxXattrTap extends Transform {
  #buf: Buffer[] = [];
  #bufLen = 0;
  /** #skip is how many data bytes (plus padding) of the current entry are still to pass. */
  #skip = 0;
  /** #collect is set while the data of a PAX header is being gathered. */
  #collect: { size: number; padded: number; global: boolean } | undefined;
  #pending: Record<string, Buffer> = {};
  #pendingSize: number | undefined;
  #entry = 0;
  #done = false;
  readonly #xattrs = new Map<number, Record<string, Buffer>>();

  /** xattrsFor returns the raw xattr values of the entry with this 0-based index (as tar-stream counts entries). */
  xattrsFor(index: number): Record<string, Buffer> | undefined {
    const x = this.#xattrs.get(index);
    this.#xattrs.delete(index);
    return x;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.#done) this.#consume(chunk);
    cb(null, chunk);
  }

  #consume(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && !this.#done) {
      if (this.#skip > 0 && !this.#collect) {
        const n = Math.min(this.#skip, chunk.length - pos);
        this.#skip -= n;
        pos += n;
        continue;
      }
      const need = this.#collect ? this.#collect.padded : 512;
      const take = Math.min(need - this.#bufLen, chunk.length - pos);
      this.#buf.push(chunk.subarray(pos, pos + take));
      this.#bufLen += take;
      pos += take;
      if (this.#bufLen < need) return;
      const block = Buffer.concat(this.#buf, this.#bufLen);
      this.#buf = [];
      this.#bufLen = 0;
      if (this.#collect) {
        if (!this.#collect.global) this.#parsePax(block.subarray(0, this.#collect.size));
        this.#collect = undefined;
      } else this.#header(block);
    }
  }

  #header(h: Buffer): void {
    // Zero blocks: tar-stream skips them and reads on, so the tap does too.
    if (h.every((b) => b === 0)) return;
    const type = String.fromCharCode(h[156]!);
    let size = readNumber(h, 124, 12);
    if (type === "x" || type === "g") {
      this.#collect = { size, padded: size + ((512 - (size % 512)) % 512), global: type === "g" };
      if (size > 16 * 1024 * 1024) this.#done = true; // absurd: let tar-stream report it
      if (size === 0) this.#collect = undefined;
      return;
    }
    if (type === "L" || type === "K") {
      this.#skip = size + ((512 - (size % 512)) % 512);
      return;
    }
    if (this.#pendingSize !== undefined) size = this.#pendingSize;
    if (Object.keys(this.#pending).length > 0) this.#xattrs.set(this.#entry, this.#pending);
    this.#pending = {};
    this.#pendingSize = undefined;
    this.#entry++;
    // tar-stream reads `size` data bytes after every header but a directory's; mirror it.
    const dataSize = type === "5" ? 0 : size;
    this.#skip = dataSize + ((512 - (dataSize % 512)) % 512);
  }

  #parsePax(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length) {
      const sp = buf.indexOf(0x20, pos);
      if (sp < 0) return;
      const len = Number.parseInt(buf.toString("latin1", pos, sp), 10);
      if (!(len > 0) || pos + len > buf.length) return;
      const rec = buf.subarray(sp + 1, pos + len - 1);
      const eq = rec.indexOf(0x3d);
      if (eq > 0) {
        const key = rec.toString("utf8", 0, eq);
        if (key.startsWith("SCHILY.xattr.")) this.#pending[key.slice(13)] = Buffer.from(rec.subarray(eq + 1));
        if (key === "size") this.#pendingSize = Number(rec.toString("latin1", eq + 1));
      }
      pos += len;
    }
  }
}

function readNumber(b: Buffer, off: number, len: number): number {
  if ((b[off]! & 0x80) !== 0) {
    let n = b[off]! & 0x3f;
    for (let i = off + 1; i < off + len; i++) n = n * 256 + b[i]!;
    return n;
  }
  const end = b.indexOf(0, off);
  const s = b.toString("latin1", off, end < 0 || end > off + len ? off + len : end).trim();
  return s === "" ? 0 : Number.parseInt(s, 8) || 0;
}
