import * as zlib from "node:zlib";
import { TarSizeCounter } from "./tar-sizes.js";

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
 * more than the cap. Inflating runs on zlib's thread pool; only the tar
 * headers are looked at (TarSizeCounter).
 */
export class LayerMeter {
  readonly #maxTarBytes: (blobBytes: number) => number;
  readonly #counter = new TarSizeCounter();
  #fed = 0;
  #stopped = false;
  /** #inflate is the gunzip stream for a gzip blob, absent for a plain tar (until the first bytes say). */
  #inflate: zlib.Gunzip | undefined;
  #kind: "gzip" | "tar" | undefined;
  #head: Buffer = Buffer.alloc(0);
  #finished: Promise<void> | undefined;
  /** #failed: the gzip stream was corrupt. */
  #failed = false;

  constructor(options: LayerMeterOptions = {}) {
    this.#maxTarBytes = options.maxTarBytes ?? defaultMaxTarBytes;
  }

  /** write feeds the next chunk of the blob; a promise it returns says to wait before the next. */
  write(chunk: Uint8Array): Promise<unknown> | undefined {
    this.#fed += chunk.length;
    if (this.#stopped) return undefined;
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.#kind === undefined) {
      // Two bytes tell gzip from tar (zstd and anything else are not measured).
      this.#head = Buffer.concat([this.#head, buf]);
      if (this.#head.length < 2) return undefined;
      buf = this.#head;
      this.#head = Buffer.alloc(0);
      this.#kind = buf[0] === 0x1f && buf[1] === 0x8b ? "gzip" : "tar";
      if (this.#kind === "gzip") this.#startInflate();
    }
    if (this.#inflate) {
      if (this.#inflate.write(buf)) return undefined;
      const inflate = this.#inflate;
      return new Promise<void>((resolve) => {
        const go = (): void => {
          inflate.off("drain", go);
          inflate.off("close", go);
          resolve();
        };
        inflate.on("drain", go);
        inflate.on("close", go);
      });
    }
    this.#count(buf);
    return undefined;
  }

  /** end says the blob is complete at `size` bytes and gives its docker SIZE, or undefined. */
  async end(size: number): Promise<number | undefined> {
    if (this.#kind === undefined && this.#head.length > 0) {
      this.#kind = "tar";
      this.#count(this.#head);
    }
    if (this.#inflate && !this.#stopped) this.#inflate.end();
    await this.#finished;
    if (this.#fed !== size || this.#overCap()) return undefined;
    return this.#counter.result();
  }

  /** abort stops measuring (the write failed). */
  abort(): void {
    this.#stopped = true;
    this.#inflate?.destroy();
  }

  #startInflate(): void {
    const inflate = zlib.createGunzip({ chunkSize: 256 * 1024 });
    this.#inflate = inflate;
    inflate.on("data", (b: Buffer) => this.#count(b));
    this.#finished = new Promise<void>((resolve) => {
      inflate.on("end", resolve);
      inflate.on("close", resolve);
      inflate.on("error", () => {
        this.#failed = true;
        resolve();
      });
    });
  }

  #count(b: Buffer): void {
    if (this.#stopped) return;
    this.#counter.push(b);
    if (this.#counter.done || this.#overCap()) this.#stop();
  }

  #overCap(): boolean {
    return this.#failed || this.#counter.tarBytes > this.#maxTarBytes(this.#fed);
  }

  #stop(): void {
    this.#stopped = true;
    this.#inflate?.destroy();
  }
}
