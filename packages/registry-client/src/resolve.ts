import { Readable } from "node:stream";
import {
  type BlobFetcher,
  type Descriptor,
  type Digest,
  formatPlatform,
  hostPlatform,
  type Image,
  imageFromParts,
  isManifestMediaType,
  type Manifest,
  OciError,
  type Platform,
  type Reference,
  selectPlatform,
} from "@tsbuild/oci";
import { readBlob } from "./blobs.js";
import type { RegistryClient } from "./client.js";
import { RegistryError } from "./errors.js";
import { type FetchedManifest, fetchManifest, MANIFEST_SIZE_LIMIT } from "./manifest.js";

/**
 * CONFIG_SIZE_LIMIT bounds an image config (8 MiB). A config is JSON read
 * whole into memory and parsed; real ones are a few KiB, the largest seen
 * (hundreds of history entries and labels) well under 1 MiB. Twice the
 * manifest limit leaves room without letting a hostile descriptor make a pull
 * write gigabytes (or hit V8's string limit) before failing.
 */
export const CONFIG_SIZE_LIMIT = 8 * 1024 * 1024;

export interface ResolveOptions {
  /** platform picks the manifest from an index (default: the host's, with variant fallback). */
  readonly platform?: Platform;
  readonly signal?: AbortSignal;
  /** configLimit bounds the image config's size (default CONFIG_SIZE_LIMIT). */
  readonly configLimit?: number;
  /** reference overrides what is asked for (a digest a HEAD already resolved the tag to). */
  readonly reference?: string;
}

/**
 * RemoteImage is an image in a registry repository, resolved: its manifest
 * and config are fetched (verified), its layers' bytes only when a layer is
 * read (verified as they stream). Every layer's `source` is the repository.
 */
export interface RemoteImage extends Image {
  readonly ref: Reference;
  /** indexDigest is what the reference resolved to (the index for a multi-platform image); docker prints it. */
  readonly indexDigest: Digest;
  /** platform is the index entry's platform, when the reference named an index. */
  readonly platform: Platform | undefined;
}

/**
 * resolveImage resolves `ref` in its registry (by digest, else by tag), picks
 * `platform` from an index, and fetches the config: the lazy registry image.
 * A missing tag or repository is worded as docker does.
 */
export async function resolveImage(
  client: RegistryClient,
  ref: Reference,
  options: ResolveOptions = {},
): Promise<RemoteImage> {
  const target = {
    registry: ref.registry,
    repository: ref.repository,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const reference = options.reference ?? ref.digest ?? ref.tag ?? "latest";
  const top = await fetchManifest(client, { ...target, reference }).catch((err: unknown) => {
    throw notFoundAsDocker(err, ref);
  });
  const { fetched, manifest, platform } = await resolvePlatform(client, ref, top, options);
  refuseTooLarge(ref, "config", manifest.config, options.configLimit ?? CONFIG_SIZE_LIMIT);
  const chunks: Buffer[] = [];
  for await (const c of readBlob(client, target, manifest.config)) chunks.push(c);
  const rawConfig = Buffer.concat(chunks);
  const image = imageFromParts({
    rawManifest: fetched.bytes,
    rawConfig,
    mediaType: fetched.mediaType,
    open: (desc, o) =>
      Readable.from(readBlob(client, { ...target, ...(o.signal && { signal: o.signal }) }, desc)),
    sourceOf: () => ({ registry: ref.registry, repository: ref.repository }),
    where: `${ref.registry}/${ref.repository}@${fetched.digest}`,
  });
  return { ...image, ref, indexDigest: top.digest, platform };
}

/**
 * blobFetcher is the store's fetcher of remote blobs (ImageStore.fetchBlob):
 * it reads a recorded blob from its registry repository; the store verifies it.
 */
export function blobFetcher(client: RegistryClient): BlobFetcher {
  return (blob, options) =>
    readBlob(
      client,
      {
        registry: blob.registry,
        repository: blob.repository,
        ...(options.signal && { signal: options.signal }),
      },
      blob,
    );
}

/**
 * notFoundAsDocker words a missing tag or repository as docker does
 * (`manifest for nginx:nope not found: manifest unknown`), keeping the code.
 */
export function notFoundAsDocker(err: unknown, ref: Reference): unknown {
  if (!(err instanceof RegistryError)) return err;
  const shown = ref.familiarString();
  const options = { ...(err.status ? { status: err.status } : {}), errors: err.errors, cause: err };
  if (err.code === "MANIFEST_UNKNOWN" || err.code === "NOT_FOUND") {
    return new RegistryError(
      "MANIFEST_UNKNOWN",
      `manifest for ${shown} not found: manifest unknown`,
      options,
    );
  }
  if (err.code === "NAME_UNKNOWN") {
    return new RegistryError(
      "NAME_UNKNOWN",
      `repository ${ref.familiarName} not found: name unknown`,
      options,
    );
  }
  return err;
}

/** resolvePlatform follows an index to the manifest for the wanted platform (by digest, so verified). */
async function resolvePlatform(
  client: RegistryClient,
  ref: Reference,
  top: FetchedManifest,
  options: ResolveOptions,
): Promise<{ fetched: FetchedManifest; manifest: Manifest; platform: Platform | undefined }> {
  if (top.parsed.kind === "manifest")
    return { fetched: top, manifest: top.parsed.manifest, platform: undefined };
  const wanted = options.platform ?? hostPlatform();
  const candidates = top.parsed.index.manifests.filter((m) => isManifestMediaType(m.mediaType));
  const chosen = selectPlatform(candidates, wanted)[0];
  if (chosen === undefined) {
    throw new RegistryError(
      "MANIFEST_UNKNOWN",
      `no matching manifest for ${formatPlatform(wanted)} in the manifest list entries of ${ref.toString()}`,
    );
  }
  refuseTooLarge(ref, "manifest", chosen, MANIFEST_SIZE_LIMIT);
  const fetched = await fetchManifest(client, {
    registry: ref.registry,
    repository: ref.repository,
    reference: chosen.digest,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (fetched.parsed.kind !== "manifest") {
    throw new OciError("INVALID_INDEX", `index entry ${chosen.digest} is not an image manifest`, {
      where: ref.toString(),
    });
  }
  return { fetched, manifest: fetched.parsed.manifest, platform: chosen.platform };
}

/**
 * refuseTooLarge stops before any download when a descriptor claims more
 * than a JSON document may hold (the download itself would also stop at the
 * claimed size, so a lie in the other direction is bounded too).
 */
function refuseTooLarge(ref: Reference, what: string, desc: Descriptor, limit: number): void {
  if (desc.size <= limit) return;
  throw new RegistryError(
    "TOO_LARGE",
    `${what} ${desc.digest} of ${ref.toString()} claims ${desc.size} bytes, over the ${limit}-byte limit for an image ${what}`,
  );
}
