import { mkdir, readFile, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type Digest, digestAlgorithm, digestHex } from "../digest.js";
import { isOciError, locateError } from "../errors.js";
import { entryDiskSize } from "../layer/entry.js";
import { tarEntries } from "../layer/reader.js";
import { isErrno, writeFileAtomic } from "../layout/fsutil.js";
import type { OciLayout } from "../layout/layout.js";
import type { Descriptor } from "../types.js";

/** SIZES_DIR is the store directory (beside `blobs/`) holding one small file per layer: its docker SIZE in decimal. */
export const SIZES_DIR = "layer-sizes";

/**
 * LayerSizes knows each stored layer's size as docker shows it (`images`,
 * `history`, inspect's `Size`): the bytes of its unpacked files (see
 * entryDiskSize), while a manifest only gives the compressed blob size.
 * Writers that know the figure record it (createLayer's diskSize); otherwise
 * it is counted once by reading the layer's tar headers and kept in
 * `layer-sizes/<alg>/<hex>`, keyed by the stored blob's digest. Files are written atomically and their content is a
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

  /** record remembers that the layer blob `digest` has docker SIZE `bytes`. */
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
   * #count reads the layer's tar headers (gzip or plain, by magic bytes) and
   * sums {@link entryDiskSize}; undefined when it cannot (zstd, which this
   * Node.js cannot inflate, or an artifact layer that is not a tar), and the
   * caller shows the blob size instead, as nothing better is known.
   */
  async #count(desc: Descriptor): Promise<number | undefined> {
    let n = 0;
    const blob = this.#layout.openBlob(desc.digest);
    try {
      for await (const { info, body } of tarEntries(blob)) {
        n += entryDiskSize(info);
        body.resume();
      }
    } catch (err) {
      if (isOciError(err) && err.code !== "BLOB_NOT_FOUND") return undefined;
      throw locateError(err, `${this.#layout.root}: layer ${desc.digest}`);
    } finally {
      blob.destroy();
    }
    return n;
  }
}
