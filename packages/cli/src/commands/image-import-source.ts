import { constants, type Stats } from "node:fs";
import { open, stat } from "node:fs/promises";
import { PassThrough, pipeline, Readable, Transform, type TransformCallback } from "node:stream";
import { createGunzip } from "node:zlib";
import {
  type CreatedLayer,
  createLayer,
  entryDiskSize,
  OciError,
  sniffCompression,
  tarEntries,
} from "@tsbuild/oci";
import { DEFAULT_IMPORT_MAX_SIZE, formatByteSize } from "./image-import-limit.js";

/** ImportSourceOptions says where stdin comes from and how the layer is made. */
export interface ImportSourceOptions {
  stdin: NodeJS.ReadableStream;
  sourceDateEpoch?: number;
  /** maxSize bounds the uncompressed bytes of a tarball source (default DEFAULT_IMPORT_MAX_SIZE). */
  maxSize?: number;
  signal?: AbortSignal;
}

/**
 * layerFromSource turns what `image import` was given into one gzip layer:
 * a directory is packed deterministically (sorted, owners and modes kept,
 * mtimes clamped to SOURCE_DATE_EPOCH); a tarball (plain or gzip, a file or
 * `-` for stdin, or an http(s) URL as docker import accepts) is checked
 * to be a tar, hashed for its diffID and (re)compressed, all in one
 * streaming pass. Anything else on disk (a FIFO, a device such as /dev/zero,
 * a socket) is refused before it is opened: reading it would block or never
 * end. A tarball that expands past `maxSize` fails the import (a gzip bomb).
 */
export async function layerFromSource(source: string, options: ImportSourceOptions): Promise<CreatedLayer> {
  const tarOptions = {
    maxSize: options.maxSize ?? DEFAULT_IMPORT_MAX_SIZE,
    ...(options.signal && { signal: options.signal }),
  };
  if (isUrl(source)) return layerFromTar(await download(source, options.signal), source, tarOptions);
  if (source !== "-") {
    const st = await stat(source).catch((cause: unknown) => {
      throw new OciError("INVALID_ARCHIVE", `cannot read import source: ${(cause as Error).message}`, {
        where: source,
        cause,
      });
    });
    if (st.isDirectory()) {
      return createLayer(
        { dir: source },
        { sourceDateEpoch: options.sourceDateEpoch, ...(options.signal && { signal: options.signal }) },
      );
    }
    refuseSpecialFile(source, st);
  }
  const input = source === "-" ? (options.stdin as Readable) : await openSource(source);
  return layerFromTar(input, source === "-" ? "stdin" : source, tarOptions);
}

/** fileKind names what a non-regular, non-directory file is, for the error that refuses it. */
function fileKind(st: Stats): string {
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * refuseSpecialFile throws unless `st` is a regular file: a FIFO with no
 * writer blocks the open forever, and /dev/zero or /dev/urandom never end.
 * A pipe is still importable as `-` (stdin), where the user chose to stream.
 */
function refuseSpecialFile(source: string, st: Stats): void {
  if (st.isFile()) return;
  throw new OciError(
    "INVALID_ARCHIVE",
    `import source is ${fileKind(st)}; give a tarball file, a directory, an http(s) URL, or - to read a tarball from stdin`,
    { where: source },
  );
}

/**
 * layerFromTar makes the layer from a tarball: createLayer passes the tar
 * through byte for byte, hashing it (diffID) and gzipping it in parallel,
 * while the validator checks it is a tar and sums docker's SIZE.
 */
function layerFromTar(
  input: Readable,
  where: string,
  options: { maxSize: number; signal?: AbortSignal },
): CreatedLayer {
  const validator = new TarValidator(where);
  const layer = createLayer(
    { tar: checkedTar(input, where, validator, options.maxSize) },
    options.signal ? { signal: options.signal } : {},
  );
  const result = layer.result.then((r) => ({ ...r, diskSize: validator.diskSize }));
  result.catch(() => {});
  return { stream: layer.stream, result };
}

/**
 * checkedTar yields the uncompressed bytes of a plain or gzip tarball through
 * `validator`, and fails once they pass `maxSize` (stopping the gunzip, so a
 * gzip bomb costs at most that much work).
 */
async function* checkedTar(
  input: Readable,
  where: string,
  validator: TarValidator,
  maxSize: number,
): AsyncGenerator<Buffer> {
  try {
    const { compression, stream } = await sniffCompression(input);
    if (compression === "zstd")
      throw new OciError("INVALID_ARCHIVE", "zstd tarballs are not supported; use plain or gzip", { where });
    const tar =
      compression === "gzip"
        ? pipeline(stream, createGunzip(), validator, () => {})
        : pipeline(stream, validator, () => {});
    let total = 0;
    for await (const chunk of tar) {
      total += (chunk as Buffer).length;
      if (total > maxSize) {
        throw new OciError(
          "INVALID_ARCHIVE",
          `tarball expands to more than ${formatByteSize(maxSize)} uncompressed, the import limit (raise it with --max-size or TSBUILD_IMPORT_MAX_SIZE)`,
          { where },
        );
      }
      yield chunk as Buffer;
    }
  } catch (err) {
    throw err instanceof OciError
      ? err
      : new OciError("INVALID_TAR", `cannot import: ${(err as Error).message}`, { where, cause: err });
  }
}

/**
 * TarValidator passes bytes through unchanged while a tar reader walks the
 * same bytes beside them, so input that is not a tar fails the import; it
 * also sums the entries' docker SIZE (entryDiskSize).
 */
class TarValidator extends Transform {
  diskSize = 0;
  readonly #side = new PassThrough();
  readonly #reader: Promise<void>;
  #error: Error | undefined;
  #pending: TransformCallback | undefined;

  constructor(where: string) {
    super();
    this.#reader = (async () => {
      for await (const { info, body } of tarEntries(this.#side)) {
        this.diskSize += entryDiskSize(info);
        body.resume();
      }
    })().catch((err: unknown) => {
      this.#error =
        err instanceof OciError
          ? new OciError(err.code, `not a valid tar archive: ${err.message}`, { where, cause: err })
          : (err as Error);
      this.#side.resume();
      const cb = this.#pending;
      this.#pending = undefined;
      cb?.(this.#error);
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.#error) {
      cb(this.#error);
      return;
    }
    if (this.#side.write(chunk)) {
      cb(null, chunk);
      return;
    }
    // The reader is behind: hand the chunk on once it has caught up.
    this.#pending = cb;
    this.#side.once("drain", () => {
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.(null, chunk);
    });
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    // The side reader must not wait for bytes that will never come.
    this.#side.destroy();
    cb(err);
  }

  override _flush(cb: TransformCallback): void {
    this.#side.end();
    this.#reader.then(() => cb(this.#error ?? null));
  }
}

/**
 * openSource opens a tarball before anything reads it, so a file the user may
 * not read (EACCES) is a clear error here rather than an unhandled stream
 * 'error' event that crashes the process. O_NONBLOCK keeps the open from
 * hanging when the path was swapped for a FIFO after it was checked, and the
 * open file is checked again (it has no effect on a regular file's reads).
 */
async function openSource(source: string): Promise<Readable> {
  const file = await open(source, constants.O_RDONLY | constants.O_NONBLOCK).catch((cause: unknown) => {
    throw new OciError("INVALID_ARCHIVE", `cannot read import source: ${(cause as Error).message}`, {
      where: source,
      cause,
    });
  });
  try {
    refuseSpecialFile(source, await file.stat());
  } catch (err) {
    await file.close();
    throw err;
  }
  return file.createReadStream();
}

/** isUrl says whether an import source is fetched over HTTP rather than read from disk. */
export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

async function download(url: string, signal: AbortSignal | undefined): Promise<Readable> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: "follow", ...(signal && { signal }) });
  } catch (cause) {
    throw new OciError("INVALID_ARCHIVE", `cannot download import source: ${(cause as Error).message}`, {
      where: url,
      cause,
    });
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new OciError(
      "INVALID_ARCHIVE",
      `cannot download import source: HTTP ${res.status} ${res.statusText}`,
      {
        where: url,
      },
    );
  }
  return Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
}
