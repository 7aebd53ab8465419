import {
  type BlobLease,
  type Descriptor,
  type Digest,
  type ImageStore,
  isForeignLayer,
  OciError,
  type Platform,
  type Reference,
  type StoredImage,
} from "@tsbuild/oci";
import { BlobSources } from "./blob-sources.js";
import { readBlob } from "./blobs.js";
import type { RegistryClient } from "./client.js";
import { mapLimit } from "./concurrency.js";
import { RegistryError } from "./errors.js";
import { headManifest, type ManifestTarget } from "./manifest.js";
import { resolveImage } from "./resolve.js";

/** PullLayerStatus follows a layer through a pull, as docker's progress lines do. */
export type PullLayerStatus = "waiting" | "downloading" | "verifying" | "done" | "exists";

/** PullProgressEvent is what pullImage reports: the resolved manifest, then per-layer progress. */
export type PullProgressEvent =
  | { type: "resolved"; digest: Digest; manifestDigest: Digest; platform: Platform | undefined }
  | { type: "layer"; digest: Digest; status: PullLayerStatus; current: number; total: number };

export interface PullOptions {
  /** store receives the blobs and the image. */
  readonly store: ImageStore;
  /** platform picks the manifest from an index (default: the host's, with variant fallback). */
  readonly platform?: Platform;
  readonly onProgress?: (event: PullProgressEvent) => void;
  readonly signal?: AbortSignal;
  /** concurrency bounds parallel blob downloads (default 3, as docker's max-concurrent-downloads). */
  readonly concurrency?: number;
  /** configLimit bounds the image config's size (default CONFIG_SIZE_LIMIT). */
  readonly configLimit?: number;
}

export interface PullResult {
  readonly image: StoredImage;
  /** digest is what the reference resolved to (the index digest for a multi-platform image); docker prints it. */
  readonly digest: Digest;
  readonly manifestDigest: Digest;
  /** upToDate: the store already had this image under this name; nothing was downloaded. */
  readonly upToDate: boolean;
  /** name is the name the image was stored under (undefined when pulled by digest only). */
  readonly name: string | undefined;
}

/**
 * pullImage resolves `ref` (picking `platform` from an index), downloads the
 * config and every layer the store lacks into the store, verified against
 * digest and size, at most `concurrency` at a time, and only then adds the
 * image under its name. If anything fails, the index is unchanged and the
 * blobs this pull wrote are deleted again.
 */
export async function pullImage(
  client: RegistryClient,
  ref: Reference,
  options: PullOptions,
): Promise<PullResult> {
  const { store } = options;
  const target = {
    registry: ref.registry,
    repository: ref.repository,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const name = ref.tag !== undefined ? ref.withoutDigest().toString() : undefined;
  const tag = ref.digest === undefined ? (ref.tag ?? "latest") : undefined;
  const resolved = tag === undefined ? undefined : await resolveTag(client, { ...target, reference: tag });
  if (resolved !== undefined && (await alreadyNamed(store, name, resolved))) {
    const image = await store.resolve(name as string);
    options.onProgress?.({
      type: "resolved",
      digest: resolved,
      manifestDigest: resolved,
      platform: undefined,
    });
    return { image, digest: resolved, manifestDigest: resolved, upToDate: true, name };
  }
  const image = await resolveImage(client, ref, {
    ...options,
    ...(resolved !== undefined && ref.digest === undefined ? { reference: resolved } : {}),
  });
  const { manifest, platform } = image;
  options.onProgress?.({
    type: "resolved",
    digest: image.indexDigest,
    manifestDigest: image.digest,
    platform,
  });

  const layers = manifest.layers.filter((l) => !isForeignLayer(l.mediaType));
  const blobs: { desc: Descriptor; layer: boolean }[] = layers.map((desc) => ({ desc, layer: true }));
  const seen = new Set<Digest>();
  const unique = blobs.filter((b) => !seen.has(b.desc.digest) && seen.add(b.desc.digest));
  const written: Digest[] = [];
  const abort = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, abort.signal]) : abort.signal;
  const emit = (desc: Descriptor, layer: boolean, status: PullLayerStatus, current: number): void => {
    if (layer)
      options.onProgress?.({ type: "layer", digest: desc.digest, status, current, total: desc.size });
  };
  // Lease before looking: a blob found present must survive until addImage names it,
  // even if a collection runs meanwhile (here or in another process).
  const lease = await store.lease(unique.map((b) => b.desc.digest));
  try {
    const present = await Promise.all(unique.map((b) => store.layout.hasBlob(b.desc.digest)));
    for (const [i, b] of unique.entries()) emit(b.desc, b.layer, present[i] ? "exists" : "waiting", 0);
    await mapLimit(unique, options.concurrency ?? 3, async (b, i) => {
      if (present[i]) return;
      try {
        await downloadInto(client, { ...target, signal }, store, lease, b.desc, (status, current) =>
          emit(b.desc, b.layer, status, current),
        );
        written.push(b.desc.digest);
        emit(b.desc, b.layer, "done", b.desc.size);
      } catch (err) {
        abort.abort(err);
        throw err;
      }
    });
    const upToDate = written.length === 0 && (await alreadyNamed(store, name, image.digest));
    const stored = await store.addImage({
      manifest: image.rawManifest,
      config: image.rawConfig,
      ...(name ? { names: [name] } : {}),
      // Pulled by digest, it has no name, but its repository holds it (docker's RepoDigests).
      repoDigests: [ref.name],
    });
    await new BlobSources(store.root, { hasBlob: (d) => store.layout.hasBlob(d) })
      .record(ref.registry, ref.repository, [manifest.config.digest, ...layers.map((l) => l.digest)])
      .catch(() => {});
    return { image: stored, digest: image.indexDigest, manifestDigest: image.digest, upToDate, name };
  } catch (err) {
    // Only what this pull wrote is deleted, under the store lock, and only if no
    // image names it and no other lease (another pull, load or import, here or in
    // another process) holds it. Blobs that were already present are left alone.
    await store.discardBlobs(written, { lease }).catch(() => {});
    throw err;
  } finally {
    await lease.release();
  }
}

/**
 * resolveTag asks for a tag's digest with a HEAD, as containerd resolves
 * tags (Docker Hub does not count HEADs against its pull limit), so an image
 * already stored under its name at that digest costs no manifest GET, and the
 * GET that follows is by digest and verified against it. A registry that
 * answers HEAD without a digest or with an error other than auth or
 * transport failures gets a GET by tag instead (undefined).
 */
async function resolveTag(client: RegistryClient, target: ManifestTarget): Promise<Digest | undefined> {
  try {
    return (await headManifest(client, target))?.digest;
  } catch (err) {
    if (!(err instanceof RegistryError)) throw err;
    if (err.code === "ABORTED" || err.status === undefined || err.status === 401 || err.status === 403)
      throw err;
    return undefined;
  }
}

async function downloadInto(
  client: RegistryClient,
  target: { registry: string; repository: string; signal: AbortSignal },
  store: ImageStore,
  lease: BlobLease,
  desc: Descriptor,
  report: (status: PullLayerStatus, current: number) => void,
): Promise<void> {
  report("downloading", 0);
  let reported = 0;
  const body = readBlob(client, target, desc, {
    onBytes: (n) => {
      if (n >= desc.size) report("verifying", n);
      else if (n - reported >= PROGRESS_STEP) {
        reported = n;
        report("downloading", n);
      }
    },
  });
  try {
    await store.writeBlob(body, { digest: desc.digest, size: desc.size }, { signal: target.signal, lease });
  } catch (err) {
    // Stopped because another blob failed: that blob's error is the reason, already worded.
    if (target.signal.aborted && err === target.signal.reason) throw err;
    if (err instanceof OciError && (err.code === "DIGEST_MISMATCH" || err.code === "SIZE_MISMATCH")) {
      throw new OciError(
        err.code,
        `blob from ${target.registry}/${target.repository} failed verification: ${err.message}`,
        { where: desc.digest, cause: err },
      );
    }
    throw err;
  }
}

/**
 * PROGRESS_STEP is how many bytes a download advances between progress
 * events (docker's progress reader uses 512 KiB too), rather than one event
 * per 64 KiB network chunk.
 */
const PROGRESS_STEP = 512 * 1024;

/** alreadyNamed says whether `name` already names this manifest in the store with every layer present. */
async function alreadyNamed(
  store: ImageStore,
  name: string | undefined,
  manifestDigest: Digest,
): Promise<boolean> {
  if (name === undefined) return false;
  try {
    const image = await store.resolve(name);
    if (image.manifestDigest !== manifestDigest) return false;
    // A lazily resolved image (a build's base) is not pulled until its layers are here.
    for (const l of image.manifest.layers)
      if (!isForeignLayer(l.mediaType) && !(await store.layout.hasBlob(l.digest))) return false;
    return true;
  } catch {
    return false;
  }
}
