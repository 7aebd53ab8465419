import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { parseImageConfig } from "../config.js";
import { type Digest, digestAlgorithm, digestOf, verifyDigest } from "../digest.js";
import { locateError, OciError } from "../errors.js";
import { decompressed } from "../layer/reader.js";
import { parseManifest } from "../manifest.js";
import { MediaType } from "../media-types.js";
import type { Descriptor, ImageConfig, Manifest } from "../types.js";

/** BlobLocation is a repository on a registry that holds a blob (a mount source, or where a lazy blob is fetched). */
export interface BlobLocation {
  readonly registry: string;
  readonly repository: string;
}

/** ReadOptions are the options of a layer's streams. */
export interface ReadOptions {
  readonly signal?: AbortSignal;
}

/**
 * Layer is one layer of an {@link Image}, as go-containerregistry's v1.Layer:
 * its descriptor facts, and its bytes on demand. compressed() yields the blob
 * verified against digest and size (the stream errors with DIGEST_MISMATCH or
 * SIZE_MISMATCH at its end); uncompressed() the tar inside it.
 */
export interface Layer {
  readonly digest: Digest;
  readonly diffId: Digest;
  readonly size: number;
  readonly mediaType: string;
  /**
   * source is a registry repository known to hold the blob, when the image
   * came from one (or the store holds it only as a remote record): sinks on
   * the same registry can mount it, a store can record it without reading it.
   */
  readonly source?: BlobLocation;
  compressed(options?: ReadOptions): Promise<Readable>;
  uncompressed(options?: ReadOptions): Promise<Readable>;
}

/**
 * Image is one image wherever it lives (store, OCI layout, archive,
 * registry, a build), read-only, as go-containerregistry's v1.Image: its
 * manifest and config (parsed and as exact bytes), the manifest's digest and
 * its layers. Manifest and config are in memory; layer bytes are read only
 * through the layers.
 */
export interface Image {
  /** digest is the manifest's digest. */
  readonly digest: Digest;
  readonly mediaType: string;
  readonly manifest: Manifest;
  readonly rawManifest: Buffer;
  /** configDigest is docker's image ID. */
  readonly configDigest: Digest;
  readonly config: ImageConfig;
  readonly rawConfig: Buffer;
  readonly layers: readonly Layer[];
}

/** ImageParts are what {@link imageFromParts} needs: the two documents and a way to open a blob. */
export interface ImageParts {
  readonly rawManifest: Uint8Array;
  readonly rawConfig: Uint8Array;
  /** mediaType of the manifest when it does not say (default OCI). */
  readonly mediaType?: string;
  /** open streams a blob as stored; it is verified by the layer. */
  readonly open: (desc: Descriptor, options: ReadOptions) => Promise<Readable> | Readable;
  /** sourceOf says which registry repository holds a layer, if known. */
  readonly sourceOf?: (desc: Descriptor) => BlobLocation | undefined;
  /** where names the image in errors (`store nginx:latest`). */
  readonly where?: string;
}

/**
 * imageFromParts is go-containerregistry's `partial`: an Image from its
 * manifest and config bytes and a blob opener. The config is checked against
 * the manifest's descriptor, and the layers against the config's diff_ids count.
 */
export function imageFromParts(parts: ImageParts): Image {
  const rawManifest = Buffer.from(parts.rawManifest);
  const rawConfig = Buffer.from(parts.rawConfig);
  const where = parts.where ?? "image";
  let manifest: Manifest;
  let config: ImageConfig;
  try {
    manifest = parseManifest(rawManifest, parts.mediaType);
  } catch (err) {
    throw locateError(err, `${where}: manifest`);
  }
  verifyDigest(
    manifest.config,
    { digest: digestOf(rawConfig, digestAlgorithm(manifest.config.digest)), size: rawConfig.length },
    `${where}: config ${manifest.config.digest}`,
  );
  try {
    config = parseImageConfig(rawConfig);
  } catch (err) {
    throw locateError(err, `${where}: config ${manifest.config.digest}`);
  }
  const diffIds = config.rootfs.diff_ids;
  const layers = manifest.layers.map((desc, i): Layer => {
    const source = parts.sourceOf?.(desc);
    const compressed = async (options: ReadOptions = {}) =>
      verified(await parts.open(desc, options), desc, `${where}: layer ${desc.digest}`);
    return {
      digest: desc.digest,
      // A config with fewer diff_ids than layers is an error only for whoever needs the diffID.
      get diffId(): Digest {
        const d = diffIds[i];
        if (d === undefined) {
          throw new OciError(
            "INVALID_CONFIG",
            `the manifest has ${manifest.layers.length} layers but the config ${diffIds.length} diff_ids`,
            { where },
          );
        }
        return d;
      },
      size: desc.size,
      mediaType: desc.mediaType,
      ...(source ? { source } : {}),
      compressed,
      uncompressed: async (options: ReadOptions = {}) => decompressed(await compressed(options)),
    };
  });
  return {
    digest: digestOf(rawManifest),
    mediaType: manifest.mediaType ?? parts.mediaType ?? MediaType.OciManifest,
    manifest,
    rawManifest,
    configDigest: manifest.config.digest,
    config,
    rawConfig,
    layers,
  };
}

/**
 * verified passes a blob's bytes through, failing the stream at its end when
 * they do not match `desc`. Nothing is read until the stream is: a check that
 * ran ahead (a small blob piped through whole before anyone listened) would
 * fail with nobody to hear it, as an uncaught error.
 */
export function verified(
  source: Readable,
  desc: Pick<Descriptor, "digest" | "size">,
  where: string,
): Readable {
  async function* check(): AsyncGenerator<Buffer> {
    const hash = createHash(digestAlgorithm(desc.digest));
    let size = 0;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > desc.size)
        throw new OciError("SIZE_MISMATCH", `expected ${desc.size} bytes, got more`, { where });
      hash.update(chunk);
      yield chunk;
    }
    verifyDigest(
      desc,
      { digest: `${digestAlgorithm(desc.digest)}:${hash.digest("hex")}` as Digest, size },
      where,
    );
  }
  const out = Readable.from(check(), { objectMode: false });
  // Destroyed before it was read, the generator never started: the source is closed here.
  out.on("close", () => {
    if (!source.destroyed) source.destroy();
  });
  return out;
}

/** readableOf turns any blob source into a Readable. */
export function readableOf(src: Readable | AsyncIterable<Uint8Array>): Readable {
  return src instanceof Readable ? src : Readable.from(src, { objectMode: false });
}
