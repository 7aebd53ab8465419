import { mkdir, readFile, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createGunzip } from "node:zlib";
import { type Digest, digestAlgorithm, digestHex } from "../digest.js";
import { OciError } from "../errors.js";
import { sniffCompression } from "../layer/reader.js";
import { isErrno, writeFileAtomic } from "../layout/fsutil.js";
import type { OciLayout } from "../layout/layout.js";
import type { Descriptor } from "../types.js";

/** SIZES_DIR is the store directory (beside `blobs/`) holding one small file per layer: its unpacked size in decimal. */
export const SIZES_DIR = "layer-sizes";

/**
 * LayerSizes knows how many bytes each stored layer unpacks to, because
 * docker's SIZE (`images`, `history`, inspect's `Size`) counts uncompressed
 * layers while a manifest only gives compressed ones. Writers that know the
 * figure record it (import, load, build); otherwise it is counted once by
 * decompressing the blob and kept in `layer-sizes/<alg>/<hex>`, keyed by the
 * stored blob's digest. Files are written atomically and their content is a
 * function of the digest, so concurrent processes racing to write one agree.
 */
export class LayerSizes {
  readonly #dir: string;
  readonly #layout: OciLayout;
  readonly #memo = new Map<Digest, Promise<number>>();
  /** #slots bounds how many layers are decompressed at once (a first `ls` over many pulled images). */
  #slots = 4;
  readonly #waiting: (() => void)[] = [];

  constructor(layout: OciLayout) {
    this.#layout = layout;
    this.#dir = join(layout.root, SIZES_DIR);
  }

  #path(d: Digest): string {
    return join(this.#dir, digestAlgorithm(d), digestHex(d));
  }

  /** record remembers that the layer blob `digest` unpacks to `bytes`. */
  async record(digest: Digest, bytes: number): Promise<void> {
    const path = this.#path(digest);
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, `${bytes}\n`);
    this.#memo.set(digest, Promise.resolve(bytes));
  }

  /** of gives the unpacked size of a layer: recorded, else counted now (and recorded); absent foreign layers count their descriptor size. */
  of(desc: Descriptor): Promise<number> {
    let p = this.#memo.get(desc.digest);
    if (!p) {
      p = this.#lookup(desc);
      this.#memo.set(desc.digest, p);
      p.catch(() => this.#memo.delete(desc.digest));
    }
    return p;
  }

  /** forget drops the records of blobs that were deleted. */
  async forget(digests: Iterable<Digest>): Promise<void> {
    for (const d of digests) {
      this.#memo.delete(d);
      await unlink(this.#path(d)).catch((err: unknown) => {
        if (!isErrno(err, "ENOENT")) throw err;
      });
    }
  }

  async #lookup(desc: Descriptor): Promise<number> {
    const text = await readFile(this.#path(desc.digest), "utf8").catch((err: unknown) => {
      if (isErrno(err, "ENOENT")) return undefined;
      throw err;
    });
    const recorded = text === undefined ? Number.NaN : Number(text.trim());
    if (Number.isSafeInteger(recorded) && recorded >= 0) return recorded;
    if (!(await this.#layout.hasBlob(desc.digest))) return desc.size;
    const bytes = await this.#limited(() => this.#count(desc));
    if (bytes === undefined) return desc.size;
    await this.record(desc.digest, bytes);
    return bytes;
  }

  async #limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#slots === 0) await new Promise<void>((res) => this.#waiting.push(res));
    else this.#slots--;
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#slots++;
    }
  }

  /**
   * #count decompresses the blob (by its magic bytes, not its media type) and
   * counts the bytes; an uncompressed tar is its own size, and zstd (which
   * this Node.js cannot inflate) gives undefined.
   */
  async #count(desc: Descriptor): Promise<number | undefined> {
    const digest = desc.digest;
    const { compression, stream } = await sniffCompression(this.#layout.openBlob(digest));
    if (compression !== "gzip") {
      stream.destroy();
      return compression === "none" ? desc.size : undefined;
    }
    const source = stream.pipe(createGunzip());
    stream.on("error", (err) => source.destroy(err));
    let n = 0;
    try {
      for await (const chunk of source) n += (chunk as Buffer).length;
    } catch (cause) {
      throw new OciError("INVALID_TAR", `cannot decompress layer: ${(cause as Error).message}`, {
        where: digest,
        cause,
      });
    }
    return n;
  }
}
