import type { Writable } from "node:stream";
import { writeDockerArchive } from "../archive/write.js";
import { OciLayout } from "../layout/layout.js";
import { isForeignLayer } from "../media-types.js";
import type { BlobLease } from "../store/lease.js";
import { normalizeName } from "../store/resolve.js";
import type { ImageStore, StoredImage } from "../store/store.js";
import type { Descriptor } from "../types.js";
import type { Image, ReadOptions } from "./image.js";

/** CopyOptions are the options of {@link copyImage}. */
export interface CopyOptions extends ReadOptions {
  /** onBlob is told each blob the sink handled and how. */
  readonly onBlob?: (digest: string, status: "copied" | "exists" | "mounted" | "recorded") => void;
}

/**
 * ImageSink is where {@link copyImage} puts an image: the store, an OCI
 * layout, a docker archive, a registry (registry-client's registrySink).
 * `R` is what the sink returns (the stored image, the pushed digest…).
 */
export interface ImageSink<R> {
  write(image: Image, options: CopyOptions): Promise<R>;
}

/**
 * copyImage copies `src` into `dst`, go-containerregistry's remote.Write /
 * layout.AppendImage / tarball.Write as one function: every sink skips blobs
 * it already holds and verifies what it copies.
 */
export function copyImage<R>(src: Image, dst: ImageSink<R>, options: CopyOptions = {}): Promise<R> {
  return dst.write(src, options);
}

/** StoreSinkOptions say how an image goes into the store. */
export interface StoreSinkOptions {
  readonly names?: readonly string[];
  readonly parent?: string;
  readonly repoDigests?: boolean | readonly string[];
  /**
   * lazy: layers whose `source` is a registry repository are not copied; the
   * store records where they are (a lazy base image) and fetches them when
   * something reads them.
   */
  readonly lazy?: boolean;
  /** lease holds the blobs written (else the store holds them until the image names them). */
  readonly lease?: BlobLease;
}

/** storeSink writes an image into the local store (blobs the store lacks, verified, then the named entry). */
export function storeSink(store: ImageStore, options: StoreSinkOptions = {}): ImageSink<StoredImage> {
  return {
    async write(image, copy) {
      const own = options.lease ?? (await store.lease());
      const signal = copy.signal;
      const w = { ...(signal && { signal }), lease: own };
      try {
        let remote: { registry: string; repository: string } | undefined;
        for (const layer of image.layers) {
          if (isForeignLayer(layer.mediaType)) continue;
          await own.add([layer.digest]);
          if (await store.layout.hasBlob(layer.digest)) {
            copy.onBlob?.(layer.digest, "exists");
            continue;
          }
          if (options.lazy && layer.source) {
            remote ??= layer.source;
            if (remote.registry === layer.source.registry && remote.repository === layer.source.repository) {
              copy.onBlob?.(layer.digest, "recorded");
              continue;
            }
          }
          await store.writeBlob(await layer.compressed(copy), { digest: layer.digest, size: layer.size }, w);
          copy.onBlob?.(layer.digest, "copied");
        }
        return await store.addImage({
          manifest: image.rawManifest,
          config: image.rawConfig,
          ...(options.names ? { names: options.names } : {}),
          ...(options.parent ? { parent: options.parent } : {}),
          ...(options.repoDigests !== undefined ? { repoDigests: options.repoDigests } : {}),
          ...(remote ? { remote } : {}),
        });
      } finally {
        if (!options.lease) await own.release();
      }
    },
  };
}

/**
 * layoutSink writes an image into an OCI layout directory (created if
 * needed), naming it `name` in index.json when given; a name already there
 * moves to this image.
 */
export function layoutSink(dir: string, options: { name?: string } = {}): ImageSink<Descriptor> {
  return {
    async write(image, copy) {
      const layout = await OciLayout.open(dir, { create: true });
      for (const layer of image.layers) {
        if (isForeignLayer(layer.mediaType) || (await layout.hasBlob(layer.digest))) {
          copy.onBlob?.(layer.digest, "exists");
          continue;
        }
        await layout.writeBlob(await layer.compressed(copy), { digest: layer.digest, size: layer.size });
        copy.onBlob?.(layer.digest, "copied");
      }
      await layout.writeBlob(image.rawConfig, { digest: image.configDigest, size: image.rawConfig.length });
      await layout.writeBlob(image.rawManifest, { digest: image.digest, size: image.rawManifest.length });
      const index = await layout.readIndex();
      const name = options.name;
      const desc: Descriptor = {
        mediaType: image.mediaType,
        digest: image.digest,
        size: image.rawManifest.length,
        ...(name ? { annotations: { "org.opencontainers.image.ref.name": name } } : {}),
      };
      const kept = index.manifests.filter(
        (m) =>
          !(name && m.annotations?.["org.opencontainers.image.ref.name"] === name) &&
          !(m.digest === image.digest && m.annotations?.["org.opencontainers.image.ref.name"] === undefined),
      );
      await layout.writeIndex({ ...index, manifests: [...kept, desc] });
      return desc;
    },
  };
}

/**
 * writeArchive writes images with their names into one docker archive
 * (also an OCI layout: what `docker load` and OCI tools read), to a file
 * (atomically) or a stream; `archiveSink` is the one-image form.
 */
export async function writeArchive(
  dest: string | Writable,
  images: readonly { image: Image; names: readonly string[] }[],
  options: ReadOptions = {},
): Promise<void> {
  await writeDockerArchive(
    dest,
    images.map(({ image, names }) => {
      const layers = new Map(image.layers.map((l) => [l.digest as string, l]));
      return {
        names: names.map(normalizeName),
        manifest: image.rawManifest,
        config: image.rawConfig,
        blob: (d: string) => {
          const l = layers.get(d);
          if (!l) throw new Error(`internal: ${d} is not a layer of ${image.digest}`);
          return l.compressed(options);
        },
      };
    }),
    options.signal ? { signal: options.signal } : {},
  );
}

/** archiveSink writes one image, named `names`, as a docker archive. */
export function archiveSink(
  dest: string | Writable,
  options: { names?: readonly string[] } = {},
): ImageSink<void> {
  return {
    write: (image, copy) => writeArchive(dest, [{ image, names: options.names ?? [] }], copy),
  };
}
