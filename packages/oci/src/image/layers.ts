import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { type Digest, digestOfStream } from "../digest.js";
import { OciError } from "../errors.js";
import { decompressed, sniffCompression, tarEntries } from "../layer/reader.js";
import { createLayer, type LayerResult } from "../layer/writer.js";
import { MediaType } from "../media-types.js";
import { type Layer, type ReadOptions, verified } from "./image.js";

/** DirectoryLayerOptions say how a directory becomes a layer. */
export interface DirectoryLayerOptions {
  /** prefix puts the tree under this path in the image (`app` → `/app/...`); parents get the directory's mode and owner. */
  readonly prefix?: string;
  /** chown gives every entry this owner (`{ uid: 0, gid: 0 }` as ko and jib do); default the owners on disk. */
  readonly chown?: { readonly uid: number; readonly gid: number };
  /**
   * sourceDateEpoch clamps every mtime to at most this many seconds; default
   * `$SOURCE_DATE_EPOCH` when set, so the same tree gives the same digests.
   */
  readonly sourceDateEpoch?: number;
  readonly signal?: AbortSignal;
}

/**
 * directoryLayer is a layer made from a directory by the deterministic layer
 * writer (entries sorted, modes, owners, xattrs and hardlinks kept, mtimes
 * clamped to SOURCE_DATE_EPOCH), gzip-compressed, as go-containerregistry's
 * tarball.LayerFromOpener: the tree is packed once now to learn the layer's
 * digest, diffID and size (a manifest needs them), keeping no bytes, and
 * packed again whenever the layer is read; that read is verified, so a tree
 * changed in between fails with DIGEST_MISMATCH instead of writing an image
 * that lies.
 */
export async function directoryLayer(dir: string, options: DirectoryLayerOptions = {}): Promise<Layer> {
  const epoch = options.sourceDateEpoch ?? epochFromEnv();
  const pack = (compression: "gzip" | "none", signal: AbortSignal | undefined) =>
    createLayer(
      {
        dir,
        ...(options.prefix !== undefined && { prefix: options.prefix }),
        ...(options.chown && { chown: options.chown }),
      },
      { compression, ...(epoch !== undefined && { sourceDateEpoch: epoch }), ...(signal && { signal }) },
    );
  const first = pack("gzip", options.signal);
  await digestOfStream(first.stream);
  const r: LayerResult = await first.result;
  const where = `layer from ${dir}`;
  return {
    digest: r.digest,
    diffId: r.diffId,
    size: r.size,
    mediaType: MediaType.OciLayerGzip,
    compressed: async (o: ReadOptions = {}) => verified(pack("gzip", o.signal).stream, r, where),
    uncompressed: async (o: ReadOptions = {}) =>
      verified(pack("none", o.signal).stream, { digest: r.diffId, size: r.uncompressedSize }, where),
  };
}

/** TarLayerOptions tune {@link tarLayer}. */
export interface TarLayerOptions {
  readonly signal?: AbortSignal;
}

/**
 * tarLayer is a layer made from a tar file, plain or gzip (crane append's
 * `-f`): it is read now to check that it is a tar and to learn its digests. A
 * gzip file is the blob as it is (its diffID is the hash of what it
 * decompresses to); a plain tar is the diffID, and the blob is its gzip by the
 * layer writer's parallel gzip (deterministic, so each read gives the same
 * bytes), verified whenever it is read.
 */
export async function tarLayer(path: string, options: TarLayerOptions = {}): Promise<Layer> {
  const st = await stat(path).catch((cause: unknown) => {
    throw new OciError("INVALID_TAR", `cannot read layer tarball: ${(cause as Error).message}`, {
      where: path,
      cause,
    });
  });
  if (!st.isFile()) throw new OciError("INVALID_TAR", "layer tarball is not a regular file", { where: path });
  const open = (o: ReadOptions = {}): Readable =>
    createReadStream(path, o.signal ? { signal: o.signal } : {});
  const head = open(options);
  const { compression, stream } = await sniffCompression(head);
  // Only the first bytes were read: close the file now rather than when the stream is collected.
  stream.destroy();
  head.destroy();
  if (compression === "zstd") {
    throw new OciError(
      "UNSUPPORTED_MEDIA_TYPE",
      "zstd tarballs are not supported; give a plain or gzip tar",
      {
        where: path,
      },
    );
  }
  try {
    for await (const { body } of tarEntries(open(options), options.signal ? { signal: options.signal } : {}))
      body.resume();
  } catch (err) {
    if (!(err instanceof OciError)) throw err;
    throw new OciError(err.code, `not a valid tar archive: ${err.message}`, { where: path, cause: err });
  }
  const where = `layer from ${path}`;
  if (compression === "gzip") {
    const blob = await digestOfStream(open(options));
    const diff = await digestOfStream(await decompressed(open(options)));
    return {
      digest: blob.digest,
      diffId: diff.digest,
      size: blob.size,
      mediaType: MediaType.OciLayerGzip,
      compressed: async (o: ReadOptions = {}) => verified(open(o), blob, where),
      uncompressed: async (o: ReadOptions = {}) => verified(await decompressed(open(o)), diff, where),
    };
  }
  const gzip = (o: ReadOptions) => createLayer({ tar: open(o) }, o.signal ? { signal: o.signal } : {});
  const first = gzip(options);
  await digestOfStream(first.stream);
  const r = await first.result;
  const diff: { digest: Digest; size: number } = { digest: r.diffId, size: r.uncompressedSize };
  return {
    digest: r.digest,
    diffId: r.diffId,
    size: r.size,
    mediaType: MediaType.OciLayerGzip,
    compressed: async (o: ReadOptions = {}) => verified(gzip(o).stream, r, where),
    uncompressed: async (o: ReadOptions = {}) => verified(open(o), diff, where),
  };
}

/**
 * epochFromEnv reads SOURCE_DATE_EPOCH (whole seconds), as reproducible-builds.org
 * asks tools to; junk is an error rather than a silently unreproducible layer.
 */
export function epochFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw)) {
    throw new OciError(
      "INVALID_CONFIG",
      `SOURCE_DATE_EPOCH must be whole seconds, got ${JSON.stringify(raw)}`,
    );
  }
  return Number(raw);
}
