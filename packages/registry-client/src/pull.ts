import {
  type BlobLease,
  type Descriptor,
  type Digest,
  formatPlatform,
  hostPlatform,
  type ImageStore,
  isForeignLayer,
  isManifestMediaType,
  type Manifest,
  OciError,
  type Platform,
  parseImageConfig,
  type Reference,
  type StoredImage,
  selectPlatform,
} from "@tsbuild/oci";
import { BlobSources } from "./blob-sources.js";
import { readBlob } from "./blobs.js";
import type { RegistryClient } from "./client.js";
import { mapLimit } from "./concurrency.js";
import { RegistryError } from "./errors.js";
import {
  type FetchedManifest,
  fetchManifest,
  headManifest,
  MANIFEST_SIZE_LIMIT,
  type ManifestTarget,
} from "./manifest.js";

/**
 * CONFIG_SIZE_LIMIT bounds an image config (8 MiB). A config is JSON read
 * whole into memory and parsed; real ones are a few KiB, the largest seen
 * (hundreds of history entries and labels) well under 1 MiB. Twice the
 * manifest limit leaves room without letting a hostile descriptor make a pull
 * write gigabytes (or hit V8's string limit) before failing.
 */
export const CONFIG_SIZE_LIMIT = 8 * 1024 * 1024;

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
  const reference = ref.digest ?? resolved ?? (tag as string);
  const top = await fetchManifest(client, { ...target, reference }).catch((err: unknown) => {
    throw notFoundAsDocker(err, ref);
  });
  const { fetched, manifest, platform } = await resolvePlatform(client, ref, top, options);
  options.onProgress?.({ type: "resolved", digest: top.digest, manifestDigest: fetched.digest, platform });

  refuseTooLarge(ref, "config", manifest.config, options.configLimit ?? CONFIG_SIZE_LIMIT);
  const layers = manifest.layers.filter((l) => !isForeignLayer(l.mediaType));
  const blobs: { desc: Descriptor; layer: boolean }[] = [
    { desc: manifest.config, layer: false },
    ...layers.map((desc) => ({ desc, layer: true })),
  ];
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
    const config = await store.layout.readBlob(manifest.config.digest);
    parseImageConfig(config);
    const upToDate = written.length === 0 && (await alreadyNamed(store, name, fetched.digest));
    const image = await store.addImage({
      manifest: fetched.bytes,
      ...(name ? { names: [name] } : {}),
      // Pulled by digest, it has no name, but its repository holds it (docker's RepoDigests).
      repoDigests: [ref.name],
    });
    await new BlobSources(store.root, { hasBlob: (d) => store.layout.hasBlob(d) })
      .record(ref.registry, ref.repository, [manifest.config.digest, ...layers.map((l) => l.digest)])
      .catch(() => {});
    return { image, digest: top.digest, manifestDigest: fetched.digest, upToDate, name };
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

/**
 * notFoundAsDocker words a missing tag or repository as docker does
 * (`manifest for nginx:nope not found: manifest unknown`), keeping the code.
 */
function notFoundAsDocker(err: unknown, ref: Reference): unknown {
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
  options: PullOptions,
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
 * refuseTooLarge stops a pull before any download when a descriptor claims
 * more than a JSON document may hold (the download itself would also stop
 * at the claimed size, so a lie in the other direction is bounded too).
 */
function refuseTooLarge(ref: Reference, what: string, desc: Descriptor, limit: number): void {
  if (desc.size <= limit) return;
  throw new RegistryError(
    "TOO_LARGE",
    `${what} ${desc.digest} of ${ref.toString()} claims ${desc.size} bytes, over the ${limit}-byte limit for an image ${what}`,
  );
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

async function alreadyNamed(
  store: ImageStore,
  name: string | undefined,
  manifestDigest: Digest,
): Promise<boolean> {
  if (name === undefined) return false;
  try {
    return (await store.resolve(name)).manifestDigest === manifestDigest;
  } catch {
    return false;
  }
}
