import { mkdir, readdir, readFile, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type Digest, digestAlgorithm, digestHex } from "../digest.js";
import { isErrno, isProcessAlive, pidOfTempName, writeFileAtomic } from "../layout/fsutil.js";
import type { OciLayout } from "../layout/layout.js";
import type { Descriptor } from "../types.js";

/** SIZES_DIR is the store directory (beside `blobs/`) holding one small file per layer: its docker SIZE in decimal. */
export const SIZES_DIR = "layer-sizes";

/**
 * LayerSizes knows each stored layer's size as docker shows it (`images`,
 * `history`, inspect's `Size`): the bytes of its unpacked files (see
 * entryDiskSize), while a manifest only gives the compressed blob size.
 * Writers record it as the layer streams in (the store's writeBlob measures
 * it; createLayer's diskSize), in `layer-sizes/<alg>/<hex>`, keyed by the
 * stored blob's digest. Reading never inflates a layer (the first `image ls`
 * after pulling a gzip bomb took 14.6 s when it did) and never writes: a
 * layer without a record counts its stored blob size. Files are written
 * atomically and their content is a function of the digest, so concurrent
 * processes racing to write one agree.
 */
export class LayerSizes {
  readonly #dir: string;
  readonly #memo = new Map<Digest, Promise<number>>();

  constructor(layout: OciLayout) {
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

  /** of gives the unpacked size of a layer: recorded, else its descriptor's (blob) size. */
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

  /** cleanTemp removes the temp files of record writes by processes that no longer run. */
  async cleanTemp(): Promise<void> {
    for (const alg of await readdir(this.#dir).catch(() => [])) {
      for (const name of await readdir(join(this.#dir, alg)).catch(() => [])) {
        const pid = name.startsWith(".") ? pidOfTempName(name) : undefined;
        if (pid !== undefined && !isProcessAlive(pid))
          await unlink(join(this.#dir, alg, name)).catch(() => {});
      }
    }
  }

  async #lookup(desc: Descriptor): Promise<number> {
    const text = await readFile(this.#path(desc.digest), "utf8").catch(() => undefined);
    const recorded = text === undefined ? Number.NaN : Number(text.trim());
    return Number.isSafeInteger(recorded) && recorded >= 0 ? recorded : desc.size;
  }
}
