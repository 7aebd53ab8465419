/**
 * TarSizeCounter sums what a tar stream's entries add to docker's SIZE (file
 * bytes, symlink target lengths; see entryDiskSize) from the headers alone,
 * skipping file contents without parsing them: a fraction of the cost of
 * decoding every entry, for measuring layers as they stream in. PAX `size`
 * and `linkpath`, GNU long link names and base-256 sizes are honoured. Feed
 * it with `push`; `result()` is the sum, or undefined when the bytes are not
 * a tar (bad header checksum, truncated entry, nothing at all).
 */
export class TarSizeCounter {
  /** tarBytes counts the headers, contents and padding seen so far: the unpacked tar's size. */
  tarBytes = 0;
  #size = 0;
  #failed = false;
  #ended = false;
  #sawHeader = false;
  readonly #hdr = Buffer.alloc(512);
  #hdrFill = 0;
  /** #skip is how many content bytes (then padding) to pass over. */
  #skip = 0;
  /** #collect gathers the content of an extended header (PAX `x`, GNU `K`/`L`) before #skip's padding. */
  #collect: { type: string; want: number; parts: Buffer[]; got: number } | undefined;
  #pax: Map<string, Buffer> = new Map();
  #longLink: Buffer | undefined;

  /** done is true once the end-of-archive block was read or the stream was found not to be a tar. */
  get done(): boolean {
    return this.#failed || this.#ended;
  }

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !this.done) {
      if (this.#collect) {
        const c = this.#collect;
        const n = Math.min(c.want - c.got, chunk.length - i);
        c.parts.push(chunk.subarray(i, i + n));
        c.got += n;
        i += n;
        if (c.got === c.want) this.#extended(c.type, Buffer.concat(c.parts));
        continue;
      }
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      const n = Math.min(512 - this.#hdrFill, chunk.length - i);
      chunk.copy(this.#hdr, this.#hdrFill, i, i + n);
      this.#hdrFill += n;
      i += n;
      if (this.#hdrFill === 512) {
        this.#hdrFill = 0;
        this.#header();
      }
    }
  }

  /** result is the SIZE once the whole stream was pushed; undefined when it was not a complete tar. */
  result(): number | undefined {
    if (this.#failed || !this.#sawHeader) return undefined;
    if (!this.#ended && (this.#hdrFill !== 0 || this.#skip !== 0 || this.#collect)) return undefined;
    return this.#size;
  }

  #header(): void {
    const h = this.#hdr;
    this.#sawHeader = true;
    this.tarBytes += 512;
    if (h.every((b) => b === 0)) {
      this.#ended = true;
      return;
    }
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
    if (sum !== octal(h, 148, 8)) {
      this.#failed = true;
      return;
    }
    const type = String.fromCharCode(h[156] as number);
    const paxSize = this.#pax.get("size");
    const size = paxSize !== undefined ? Number(paxSize.toString("latin1")) : headerSize(h);
    if (!Number.isSafeInteger(size) || size < 0) {
      this.#failed = true;
      return;
    }
    const padded = size + ((512 - (size % 512)) % 512);
    this.tarBytes += padded;
    if (type === "x" || type === "K" || type === "L") {
      if (size > 1024 * 1024) {
        this.#failed = true;
        return;
      }
      this.#collect = { type, want: size, parts: [], got: 0 };
      this.#skip = padded - size;
      return;
    }
    if (type === "0" || type === "\0" || type === "7") this.#size += size;
    else if (type === "2") {
      this.#size = this.#size + (this.#pax.get("linkpath") ?? this.#longLink ?? cstring(h, 157, 100)).length;
    }
    if (type !== "g") {
      this.#pax = new Map();
      this.#longLink = undefined;
    }
    this.#skip = padded;
  }

  #extended(type: string, data: Buffer): void {
    this.#collect = undefined;
    if (type === "K") this.#longLink = cstring(data, 0, data.length);
    if (type !== "x") return;
    // PAX records: "LEN key=value\n", LEN counting the whole record; values are raw bytes.
    for (let pos = 0; pos < data.length; ) {
      const space = data.indexOf(0x20, pos);
      const len = Number(data.toString("latin1", pos, space));
      if (space < 0 || !Number.isSafeInteger(len) || len <= 0 || pos + len > data.length) {
        this.#failed = true;
        return;
      }
      const record = data.subarray(space + 1, pos + len - 1);
      const eq = record.indexOf(0x3d);
      if (eq > 0) this.#pax.set(record.toString("latin1", 0, eq), record.subarray(eq + 1));
      pos += len;
    }
  }
}

function cstring(b: Buffer, start: number, len: number): Buffer {
  const field = b.subarray(start, start + len);
  const nul = field.indexOf(0);
  return nul < 0 ? field : field.subarray(0, nul);
}

function octal(b: Buffer, start: number, len: number): number {
  const text = b
    .toString("latin1", start, start + len)
    .replace(/[\0 ]+$/, "")
    .trim();
  return text === "" ? 0 : /^[0-7]+$/.test(text) ? Number.parseInt(text, 8) : Number.NaN;
}

/** headerSize reads the size field: octal, or GNU base-256 when its high bit is set. */
function headerSize(h: Buffer): number {
  if (((h[124] as number) & 0x80) === 0) return octal(h, 124, 12);
  let n = (h[124] as number) & 0x7f;
  for (let i = 125; i < 136; i++) n = n * 256 + (h[i] as number);
  return n;
}
