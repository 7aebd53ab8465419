import { createReadStream } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import {
  type Descriptor,
  type Digest,
  type DigestAlgorithm,
  digestOfStream,
  type ImageStore,
  isForeignLayer,
  isIndexMediaType,
  isManifestMediaType,
  type Manifest,
  MediaType,
  OciError,
  parseManifestOrIndex,
  parseReference,
  type Reference,
  type StoredImage,
} from "@tsbuild/oci";
import { BlobSources } from "./blob-sources.js";
import {
  blobSize,
  cancelUpload,
  type RepositoryTarget,
  startUpload,
  type UploadStart,
  uploadBlob,
} from "./blobs.js";
import type { RegistryClient } from "./client.js";
import { mapLimit } from "./concurrency.js";
import { isRegistryError } from "./errors.js";
import { putManifest } from "./manifest.js";
import { blobFetcher } from "./resolve.js";

/** PushLayerStatus follows a blob through a push, as docker's progress lines do. */
export type PushLayerStatus = "waiting" | "pushing" | "pushed" | "exists" | "mounted";

/** PushProgressEvent reports one blob's state; `from` is the repository a mounted blob came from. */
export interface PushProgressEvent {
  readonly type: "layer";
  readonly digest: Digest;
  /** kind: docker lists layers; the config is pushed silently. */
  readonly kind: "layer" | "config";
  readonly status: PushLayerStatus;
  readonly current: number;
  readonly total: number;
  readonly from?: string;
}

export interface PushOptions {
  /** store holds the image's blobs. */
  readonly store: ImageStore;
  readonly onProgress?: (event: PushProgressEvent) => void;
  readonly signal?: AbortSignal;
  /** concurrency bounds parallel blob uploads (default 5, as docker's max-concurrent-uploads). */
  readonly concurrency?: number;
  /** mount: try cross-repository mounts from repositories known to hold a blob (default true). */
  readonly mount?: boolean;
  /** chunkThreshold / chunkSize tune uploads (see uploadBlob). */
  readonly chunkThreshold?: number;
  readonly chunkSize?: number;
}

export interface PushResult {
  /** digest is the manifest's digest; the image can be pulled as `repo@digest`. */
  readonly digest: Digest;
  /** size is the manifest's size in bytes (docker prints it). */
  readonly size: number;
  readonly tag: string;
  readonly blobs: readonly { digest: Digest; status: "pushed" | "exists" | "mounted"; from?: string }[];
}

/** MAX_MOUNT_SOURCES bounds how many source repositories a push tries per blob before uploading. */
const MAX_MOUNT_SOURCES = 3;

/**
 * pushImage uploads a stored image to `ref`'s repository: per blob it HEADs
 * first and skips what exists, else mounts it from another repository of the
 * same registry that is known to hold it (blob sources recorded by pulls and
 * pushes, and the image's own names), else uploads it; at most `concurrency`
 * at a time. The manifest goes last, by tag, byte-for-byte as stored, and the
 * registry must confirm its digest.
 */
export async function pushImage(
  client: RegistryClient,
  image: StoredImage,
  ref: Reference,
  options: PushOptions,
): Promise<PushResult> {
  const ctx = await pushContext(client, ref, options, image.names);
  const bytes = await options.store.layout.readBlob(image.manifestDigest);
  const mediaType = image.manifest.mediaType ?? image.descriptor.mediaType ?? MediaType.OciManifest;
  const tag = ref.tag ?? "latest";
  const { digest, blobs } = await pushManifestTree(ctx, { bytes, mediaType }, tag);
  await ctx.recordSources(blobs.map((b) => b.digest));
  // The repository now holds the image by digest (docker's RepoDigests); bookkeeping only, so a
  // store that cannot record it does not turn a finished push into a failure.
  await options.store.addRepoDigest(digest, ref.name).catch(() => {});
  return { digest, size: bytes.length, tag, blobs };
}

/**
 * pushIndex uploads a multi-platform image held in the store as an index (OCI
 * index or Docker manifest list): every child manifest with its blobs, each
 * PUT by digest, then the index by `ref`'s tag.
 */
export async function pushIndex(
  client: RegistryClient,
  index: Pick<Descriptor, "digest" | "mediaType">,
  ref: Reference,
  options: PushOptions,
): Promise<PushResult> {
  const ctx = await pushContext(client, ref, options, []);
  const bytes = await options.store.layout.readBlob(index.digest);
  const tag = ref.tag ?? "latest";
  const { digest, blobs } = await pushManifestTree(ctx, { bytes, mediaType: index.mediaType }, tag);
  await ctx.recordSources(blobs.map((b) => b.digest));
  await options.store.addRepoDigest(digest, ref.name).catch(() => {});
  return { digest, size: bytes.length, tag, blobs };
}

interface PushContext {
  readonly client: RegistryClient;
  readonly target: RepositoryTarget;
  readonly options: PushOptions;
  sourcesOf(d: Digest): string[];
  recordSources(digests: Digest[]): Promise<void>;
  forgetSource(d: Digest, repository: string): Promise<void>;
}

async function pushContext(
  client: RegistryClient,
  ref: Reference,
  options: PushOptions,
  names: readonly string[],
): Promise<PushContext> {
  const { store } = options;
  const sources = new BlobSources(store.root, { hasBlob: (d) => store.layout.hasBlob(d) });
  const known = options.mount === false ? new Map<Digest, string[]>() : await sources.load();
  const ownRepos = names.flatMap((n) => {
    try {
      const r = parseReference(n);
      return r.registry === ref.registry ? [r.repository] : [];
    } catch {
      return [];
    }
  });
  return {
    client,
    options,
    target: {
      registry: ref.registry,
      repository: ref.repository,
      ...(options.signal ? { signal: options.signal } : {}),
    },
    sourcesOf: (d) => {
      if (options.mount === false) return [];
      const fromFile = (known.get(d) ?? [])
        .filter((s) => s.startsWith(`${ref.registry}/`))
        .map((s) => s.slice(ref.registry.length + 1));
      return [...new Set([...fromFile, ...ownRepos])]
        .filter((r) => r !== ref.repository)
        .slice(0, MAX_MOUNT_SOURCES);
    },
    recordSources: (digests) => sources.record(ref.registry, ref.repository, digests).catch(() => {}),
    forgetSource: (d, repository) => sources.forget(ref.registry, repository, [d]).catch(() => {}),
  };
}

type BlobOutcome = PushResult["blobs"][number];

/**
 * pushManifestTree pushes what a manifest or index references, then the
 * manifest itself under `reference` (a tag, or the digest for an index's
 * children). Children of an index are pushed one after another; the blobs of
 * each manifest in parallel.
 */
async function pushManifestTree(
  ctx: PushContext,
  manifest: { bytes: Buffer; mediaType: string },
  reference: string,
): Promise<{ digest: Digest; blobs: BlobOutcome[] }> {
  const parsed = parseManifestOrIndex(manifest.bytes, manifest.mediaType);
  const blobs: BlobOutcome[] = [];
  if (parsed.kind === "index") {
    for (const child of parsed.index.manifests) {
      if (!isManifestMediaType(child.mediaType) && !isIndexMediaType(child.mediaType)) continue;
      const bytes = await ctx.options.store.layout.readBlob(child.digest);
      const pushed = await pushManifestTree(ctx, { bytes, mediaType: child.mediaType }, child.digest);
      blobs.push(...pushed.blobs);
    }
  } else {
    blobs.push(...(await pushBlobs(ctx, parsed.manifest)));
  }
  const digest = await putSettled(ctx, reference, { bytes: manifest.bytes, mediaType: parsed.mediaType });
  return { digest, blobs };
}

/**
 * putSettled PUTs a manifest whose blobs were just found or sent. A registry that calls one of them
 * unknown is asked again after a short pause, a few times: docker-registry's filesystem driver rewrites a
 * blob's files in place when another client commits the same blob at that moment (many CI runners
 * pushing one image), and a manifest checked in that instant fails though the blob is there.
 */
async function putSettled(
  ctx: PushContext,
  reference: string,
  manifest: { bytes: Buffer; mediaType: string },
): Promise<Digest> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await putManifest(ctx.client, { ...ctx.target, reference }, manifest);
    } catch (err) {
      const race =
        isRegistryError(err) &&
        (err.code === "MANIFEST_BLOB_UNKNOWN" || err.errors.some((e) => e.code === "MANIFEST_BLOB_UNKNOWN"));
      if (!race || attempt >= 4 || ctx.target.signal?.aborted) throw err;
      await delay(
        100 * 2 ** attempt,
        undefined,
        ctx.target.signal ? { signal: ctx.target.signal } : undefined,
      );
    }
  }
}

async function pushBlobs(ctx: PushContext, manifest: Manifest): Promise<BlobOutcome[]> {
  const { options } = ctx;
  const layers = manifest.layers.filter((l) => !isForeignLayer(l.mediaType));
  const seen = new Set<Digest>();
  const blobs = [
    ...layers.map((desc) => ({ desc, kind: "layer" as const })),
    { desc: manifest.config, kind: "config" as const },
  ].filter((b) => !seen.has(b.desc.digest) && seen.add(b.desc.digest));
  for (const b of blobs) emit(options, b.desc, b.kind, "waiting", 0);
  return mapLimit(blobs, options.concurrency ?? 5, async (b) => {
    const outcome = await pushBlob(
      ctx.client,
      ctx.target,
      options.store,
      b.desc,
      ctx.sourcesOf(b.desc.digest),
      {
        ...options,
        onBytes: (n) => emit(options, b.desc, b.kind, "pushing", n),
        forgetSource: ctx.forgetSource,
      },
    );
    emit(options, b.desc, b.kind, outcome.status, b.desc.size, outcome.from);
    return { digest: b.desc.digest, ...outcome };
  });
}

function emit(
  options: PushOptions,
  desc: Descriptor,
  kind: "layer" | "config",
  status: PushLayerStatus,
  current: number,
  from?: string,
): void {
  options.onProgress?.({
    type: "layer",
    digest: desc.digest,
    kind,
    status,
    current,
    total: desc.size,
    ...(from ? { from } : {}),
  });
}

async function pushBlob(
  client: RegistryClient,
  target: RepositoryTarget,
  store: ImageStore,
  desc: Descriptor,
  mountFrom: readonly string[],
  options: PushOptions & {
    onBytes: (n: number) => void;
    forgetSource: (d: Digest, repository: string) => Promise<void>;
  },
): Promise<{ status: "pushed" | "exists" | "mounted"; from?: string }> {
  let sources = mountFrom;
  if ((await blobSize(client, target, desc.digest)) !== undefined) return { status: "exists" };
  // A lazy blob (recorded, not held): mount it from its repository on the same registry, else
  // stream it through from its registry (verified by the registry we push to).
  const remote = (await store.layout.hasBlob(desc.digest)) ? undefined : await store.remoteBlob(desc.digest);
  let open: (() => AsyncIterable<Uint8Array>) | undefined;
  if (remote !== undefined) {
    if (remote.registry === target.registry && remote.repository !== target.repository)
      sources = [remote.repository, ...sources.filter((s) => s !== remote.repository)];
    const fetch = store.fetchBlob ?? blobFetcher(client);
    open = () =>
      fetch(remote, { ...(target.signal && { signal: target.signal }) }) as AsyncIterable<Uint8Array>;
  }
  // The registry needs it from us: a blob missing from the store is the store's fault, said as such.
  else if (!(await store.layout.hasBlob(desc.digest))) {
    throw new OciError(
      "BLOB_NOT_FOUND",
      `the image needs it but the store has no ${store.layout.blobPath(desc.digest)}`,
      {
        where: `${store.root}: blob ${desc.digest}`,
      },
    );
  }
  // Try each known source; a 202 means the registry did not find the blob there (a
  // deleted repository): forget that source and try the next, uploading into the last session.
  let session: UploadStart | undefined;
  for (const from of sources) {
    let started: UploadStart;
    try {
      started = await startUpload(client, target, { digest: desc.digest, from });
    } catch (err) {
      if (!isRegistryError(err) || err.code === "ABORTED") throw err;
      continue;
    }
    if (started.mounted) return { status: "mounted", from };
    await options.forgetSource(desc.digest, from);
    if (session && !session.mounted) await cancelUpload(client, target, session.location);
    session = started;
  }
  for (let attempt = 1; ; attempt++) {
    if (session === undefined || session.mounted) session = await startUpload(client, target);
    if (session.mounted) return { status: "exists" };
    try {
      await uploadBlob(client, target, session, desc, {
        ...(open ? { open } : { path: store.layout.blobPath(desc.digest) }),
        onBytes: options.onBytes,
        ...(options.chunkThreshold !== undefined ? { chunkThreshold: options.chunkThreshold } : {}),
        ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
      });
      return { status: "pushed" };
    } catch (err) {
      // The registry says the bytes do not match the digest: when our own copy is what is
      // damaged, say so once instead of uploading it again.
      if (isRegistryError(err) && err.code === "DIGEST_INVALID") await checkStoredBlob(store, desc);
      if (attempt >= UPLOAD_ATTEMPTS || !restartable(err) || target.signal?.aborted) throw err;
      session = undefined;
    }
  }
}

/** checkStoredBlob re-hashes a stored blob and throws DIGEST_MISMATCH, naming its file, when it no longer matches. */
async function checkStoredBlob(store: ImageStore, desc: Descriptor): Promise<void> {
  const path = store.layout.blobPath(desc.digest);
  const algorithm = desc.digest.slice(0, desc.digest.indexOf(":")) as DigestAlgorithm;
  const { digest } = await digestOfStream(createReadStream(path), algorithm);
  if (digest !== desc.digest) {
    throw new OciError("DIGEST_MISMATCH", `the store's copy is corrupt: ${path} hashes to ${digest}`, {
      where: `${store.root}: blob ${desc.digest}`,
    });
  }
}

/** UPLOAD_ATTEMPTS bounds how often a failed upload is started over in a new session. */
const UPLOAD_ATTEMPTS = 3;

/**
 * restartable says whether a failed upload is worth a fresh session: the
 * connection broke or the registry lost or spoiled the session (a replayed
 * PUT after a cut-off body lands on half-written data and fails its digest).
 */
function restartable(err: unknown): boolean {
  if (!isRegistryError(err) || err.code === "ABORTED") return false;
  return (
    err.temporary ||
    err.code === "BLOB_UPLOAD_UNKNOWN" ||
    err.code === "BLOB_UPLOAD_INVALID" ||
    err.code === "DIGEST_INVALID" ||
    err.code === "RANGE_INVALID"
  );
}
