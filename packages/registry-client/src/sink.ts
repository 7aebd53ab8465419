import type { Digest, Image, ImageSink, Reference } from "@tsbuild/oci";
import { isForeignLayer } from "@tsbuild/oci";
import { blobSize, type RepositoryTarget, startUpload, uploadBlob } from "./blobs.js";
import type { RegistryClient } from "./client.js";
import { mapLimit } from "./concurrency.js";
import { isRegistryError } from "./errors.js";
import { putManifest } from "./manifest.js";

/** RegistrySinkOptions tune {@link registrySink}. */
export interface RegistrySinkOptions {
  /** concurrency bounds parallel blob uploads (default 5). */
  readonly concurrency?: number;
}

/** RegistryWrite is what a registry sink wrote: the manifest's digest and each blob's outcome. */
export interface RegistryWrite {
  readonly digest: Digest;
  readonly blobs: readonly { digest: Digest; status: "pushed" | "exists" | "mounted" }[];
}

/**
 * registrySink pushes an image to `ref` (its tag, else its digest): per
 * blob it HEADs first and skips what exists, mounts a layer whose source is
 * another repository of the same registry, else streams the layer's bytes
 * through from wherever the image lives; the manifest goes last, byte for
 * byte. go-containerregistry's remote.Write.
 */
export function registrySink(
  client: RegistryClient,
  ref: Reference,
  options: RegistrySinkOptions = {},
): ImageSink<RegistryWrite> {
  return {
    async write(image: Image, copy) {
      const target: RepositoryTarget = {
        registry: ref.registry,
        repository: ref.repository,
        ...(copy.signal && { signal: copy.signal }),
      };
      const seen = new Set<Digest>();
      const blobs = [
        ...image.layers
          .filter((l) => !isForeignLayer(l.mediaType))
          .map((l) => ({
            digest: l.digest,
            size: l.size,
            source: l.source,
            open: () => streamOf(() => l.compressed(copy)),
          })),
        {
          digest: image.configDigest,
          size: image.rawConfig.length,
          source: undefined,
          open: () => [image.rawConfig],
        },
      ].filter((b) => !seen.has(b.digest) && seen.add(b.digest));
      const outcomes = await mapLimit(blobs, options.concurrency ?? 5, async (b) => {
        const status = await pushOne(client, target, b);
        copy.onBlob?.(b.digest, status === "pushed" ? "copied" : status);
        return { digest: b.digest, status };
      });
      const digest = await putManifest(
        client,
        { ...target, reference: ref.tag ?? ref.digest ?? image.digest },
        { bytes: image.rawManifest, mediaType: image.mediaType },
      );
      return { digest, blobs: outcomes };
    },
  };
}

/**
 * pushOne puts one blob into `target`: nothing when it is there, a mount when
 * its source is another repository of the same registry, else its bytes
 * from `open` (internal: copy uses it too).
 */
export async function pushOne(
  client: RegistryClient,
  target: RepositoryTarget,
  b: {
    digest: Digest;
    size: number;
    source: { registry: string; repository: string } | undefined;
    open: () => AsyncIterable<Uint8Array> | Uint8Array[];
  },
): Promise<"pushed" | "exists" | "mounted"> {
  if ((await blobSize(client, target, b.digest)) !== undefined) return "exists";
  let session: Awaited<ReturnType<typeof startUpload>> | undefined;
  if (b.source && b.source.registry === target.registry && b.source.repository !== target.repository) {
    try {
      session = await startUpload(client, target, { digest: b.digest, from: b.source.repository });
    } catch (err) {
      if (!isRegistryError(err) || err.code === "ABORTED") throw err;
    }
    if (session?.mounted) return "mounted";
  }
  if (session === undefined || session.mounted) session = await startUpload(client, target);
  if (session.mounted) return "exists";
  await uploadBlob(client, target, session, b, { open: b.open as () => AsyncIterable<Uint8Array> });
  return "pushed";
}

async function* streamOf(open: () => Promise<AsyncIterable<Uint8Array>>): AsyncGenerator<Uint8Array> {
  yield* await open();
}
