import { once } from "node:events";
import { PassThrough } from "node:stream";
import { entryDiskSize } from "./entry.js";
import { tarEntries } from "./reader.js";

export interface LayerMeterOptions {
  /**
   * maxTarBytes stops measuring once the unpacked tar (headers, contents,
   * padding) passes this many bytes; default {@link defaultMaxTarBytes} of
   * the blob size, so a gzip bomb costs a bounded amount of inflating.
   */
  readonly maxTarBytes?: (blobBytes: number) => number;
}

/**
 * defaultMaxTarBytes allows 256 MiB plus 32 times the compressed size: real
 * layers compress far less than 32:1, gzip bombs (1000:1) stop early.
 */
export function defaultMaxTarBytes(blobBytes: number): number {
  return 256 * 1024 * 1024 + 32 * blobBytes;
}

/**
 * LayerMeter measures a layer's docker SIZE (the bytes of its files, see
 * entryDiskSize) from the blob's bytes as they are written, so listing an
 * image never has to inflate a layer. Feed every chunk with `write`, then
 * `end` gives the size, or undefined when the blob is not a tar this Node.js
 * can read (zstd, an artifact, a config), was not fed whole, or unpacks to
 * more than the cap.
 */
export class LayerMeter {
  readonly #input = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
  readonly #maxTarBytes: (blobBytes: number) => number;
  readonly #done: Promise<number | undefined>;
  #fed = 0;
  #stopped = false;

  constructor(options: LayerMeterOptions = {}) {
    this.#maxTarBytes = options.maxTarBytes ?? defaultMaxTarBytes;
    this.#input.on("error", () => {});
    this.#done = this.#measure();
  }

  /** write feeds the next chunk of the blob; a promise it returns says to wait before the next. */
  write(chunk: Uint8Array): Promise<unknown> | undefined {
    this.#fed += chunk.length;
    if (this.#stopped || this.#input.write(chunk)) return undefined;
    return Promise.race([once(this.#input, "drain").catch(() => {}), this.#done]);
  }

  /** end says the blob is complete at `size` bytes and gives its docker SIZE, or undefined. */
  async end(size: number): Promise<number | undefined> {
    if (!this.#stopped) this.#input.end();
    const measured = await this.#done;
    return this.#fed === size ? measured : undefined;
  }

  /** abort stops measuring (the write failed). */
  abort(): void {
    this.#stop();
  }

  #stop(): void {
    this.#stopped = true;
    this.#input.destroy();
  }

  async #measure(): Promise<number | undefined> {
    let size = 0;
    let tarBytes = 0;
    try {
      for await (const { info, body } of tarEntries(this.#input)) {
        tarBytes += 512 + Math.ceil(info.size / 512) * 512;
        if (tarBytes > this.#maxTarBytes(this.#fed)) return undefined;
        size += entryDiskSize(info);
        body.resume();
      }
      return size;
    } catch {
      return undefined;
    } finally {
      this.#stop();
    }
  }
}
