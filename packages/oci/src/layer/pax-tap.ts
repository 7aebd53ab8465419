import { isUtf8 } from "node:buffer";
import { Transform, type TransformCallback } from "node:stream";

/** RawEntryFields are the header bytes of one entry that tar-stream's text decoding would lose. */
export interface RawEntryFields {
  /** xattrs are the PAX `SCHILY.xattr.*` values as bytes. */
  xattrs?: Record<string, Buffer>;
  /** name is the entry name's bytes, set only when they are not valid UTF-8. */
  name?: Buffer;
  /** linkname is the link target's bytes, set only when they are not valid UTF-8. */
  linkname?: Buffer;
}

/** MAX_LONG_NAME bounds a GNU long name (`L`/`K`) the tap keeps; longer ones are left to tar-stream. */
const MAX_LONG_NAME = 64 * 1024;

/**
 * PaxXattrTap passes tar bytes through unchanged while following the archive
 * structure itself, to keep the raw bytes of what tar-stream decodes as UTF-8
 * text: PAX `SCHILY.xattr.*` values (binary ones such as
 * `security.capability`) and names and link targets that are not UTF-8 (from
 * the ustar fields, GNU `L`/`K` entries or PAX `path`/`linkpath`, with
 * tar-stream's precedence). The tap sees every header before tar-stream does,
 * so by the time tar-stream emits entry N, `rawFor(N)` is known.
 */
export class PaxXattrTap extends Transform {
  #buf: Buffer[] = [];
  #bufLen = 0;
  /** #skip is how many data bytes (plus padding) of the current entry are still to pass. */
  #skip = 0;
  /** #collect is set while the data of a PAX header or GNU long name is being gathered. */
  #collect: { size: number; padded: number; kind: "x" | "g" | "L" | "K" } | undefined;
  #pending: Record<string, Buffer> = {};
  #pendingSize: number | undefined;
  #paxPath: Buffer | undefined;
  #paxLinkpath: Buffer | undefined;
  #longName: Buffer | undefined;
  #longLink: Buffer | undefined;
  #entry = 0;
  #done = false;
  readonly #raw = new Map<number, RawEntryFields>();

  /** rawFor returns what the tap kept of the entry with this 0-based index (as tar-stream counts entries). */
  rawFor(index: number): RawEntryFields | undefined {
    const x = this.#raw.get(index);
    this.#raw.delete(index);
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
        const data = block.subarray(0, this.#collect.size);
        if (this.#collect.kind === "x") this.#parsePax(data);
        else if (this.#collect.kind === "L") this.#longName = cString(data, 0, data.length);
        else if (this.#collect.kind === "K") this.#longLink = cString(data, 0, data.length);
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
      this.#collect = { size, padded: size + ((512 - (size % 512)) % 512), kind: type };
      if (size > 16 * 1024 * 1024) this.#done = true; // absurd: let tar-stream report it
      if (size === 0) this.#collect = undefined;
      return;
    }
    if (type === "L" || type === "K") {
      const padded = size + ((512 - (size % 512)) % 512);
      if (size > 0 && size <= MAX_LONG_NAME) this.#collect = { size, padded, kind: type };
      else this.#skip = padded;
      return;
    }
    if (this.#pendingSize !== undefined) size = this.#pendingSize;
    const raw: RawEntryFields = {};
    if (Object.keys(this.#pending).length > 0) raw.xattrs = this.#pending;
    // tar-stream's precedence: PAX over GNU long names over the ustar fields.
    const name = this.#paxPath ?? this.#longName ?? ustarName(h);
    if (!isUtf8(name)) raw.name = name;
    const linkname = this.#paxLinkpath ?? this.#longLink ?? cString(h, 157, 100);
    if (!isUtf8(linkname)) raw.linkname = linkname;
    if (raw.xattrs || raw.name || raw.linkname) this.#raw.set(this.#entry, raw);
    this.#pending = {};
    this.#pendingSize = undefined;
    this.#paxPath = undefined;
    this.#paxLinkpath = undefined;
    this.#longName = undefined;
    this.#longLink = undefined;
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
        if (key === "path") this.#paxPath = Buffer.from(rec.subarray(eq + 1));
        if (key === "linkpath") this.#paxLinkpath = Buffer.from(rec.subarray(eq + 1));
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

/** cString returns the bytes of a NUL-terminated field (all `len` bytes when there is no NUL); each block is a fresh buffer, so no copy. */
function cString(b: Buffer, off: number, len: number): Buffer {
  const end = b.indexOf(0, off);
  return b.subarray(off, end < 0 || end > off + len ? off + len : end);
}

/** ustarName is the name of a header block as tar-stream reads it: a ustar prefix joined with "/", else the name field. */
function ustarName(h: Buffer): Buffer {
  const name = cString(h, 0, 100);
  const ustar = h.toString("latin1", 257, 263) === "ustar\u0000";
  if (!ustar || h[345] === 0) return name;
  return Buffer.concat([cString(h, 345, 155), Buffer.from("/"), name]);
}
