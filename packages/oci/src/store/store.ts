import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { canonicalJson } from "../canonical-json.js";
import { parseImageConfig } from "../config.js";
import { chainIds, type Digest, digestOf, parseDigest } from "../digest.js";
import { isOciError, locateError, OciError } from "../errors.js";
import { LayerMeter } from "../layer/meter.js";
import { fileError } from "../layout/fsutil.js";
import { type BlobSource, OciLayout } from "../layout/layout.js";
import { reachableBlobs } from "../layout/reachable.js";
import { parseIndex, parseManifest } from "../manifest.js";
import { isForeignLayer, isIndexMediaType, isManifestMediaType, MediaType } from "../media-types.js";
import { hostPlatform, selectPlatform } from "../platform.js";
import { parseReference } from "../reference.js";
import type { Descriptor, ImageConfig, Index, Manifest } from "../types.js";
import {
  entriesFromIndex,
  indexFromEntries,
  PARENT,
  REPO_DIGESTS,
  type StoreEntry,
  setAnnotation,
} from "./entries.js";
import { type BlobLease, Leases, leasedDigests } from "./lease.js";
import { withFileLock } from "./lock.js";
import { type BlobFetcher, type RemoteBlob, RemoteBlobs } from "./remote.js";
import {
  attachName,
  detachName,
  isImageEntry,
  isIndexEntry,
  locate,
  normalizeName,
  notFound,
  shortId,
} from "./resolve.js";
import { createStoreRoot, defaultStoreRoot } from "./root.js";
import { LayerSizes } from "./sizes.js";
import { type HistoryRow, historyRows, type ImageRow, type InspectResult, inspectResult } from "./views.js";

export interface OpenStoreOptions {
  /** root is the store directory (default {@link defaultStoreRoot}). */
  readonly root?: string;
  /** lockTimeoutMs bounds the wait for another process's index lock (default 60 s). */
  readonly lockTimeoutMs?: number;
  /**
   * fetchBlob fetches a blob the store does not hold from where it was
   * recorded ({@link AddImageOptions.remote}); without one, such a blob is
   * BLOB_NOT_FOUND when something needs its bytes.
   */
  readonly fetchBlob?: BlobFetcher;
}

/** UnreadableImage is a store entry whose manifest or config could not be read; `error` says which and where. */
export interface UnreadableImage {
  readonly manifestDigest: Digest;
  readonly names: readonly string[];
  readonly error: unknown;
}

/** StoredImage is an image in the store, as `resolve` returns it. */
export interface StoredImage {
  /** id is the config digest (docker's image ID). */
  readonly id: Digest;
  readonly manifestDigest: Digest;
  /** descriptor is the manifest descriptor (store annotations, no name). */
  readonly descriptor: Descriptor;
  readonly manifest: Manifest;
  readonly config: ImageConfig;
  /** names are the full normalised names (`docker.io/library/nginx:latest`). */
  readonly names: readonly string[];
  /**
   * size is the config plus the compressed layers: the bytes the store holds.
   * docker's SIZE is the unpacked size: {@link ImageStore.unpackedSize}.
   */
  readonly size: number;
  readonly created: string | undefined;
  readonly parent: Digest | undefined;
  /**
   * repoDigests are the repositories (full names, `docker.io/library/busybox`)
   * known to hold this manifest by digest because it was pulled from or pushed
   * to them: docker's RepoDigests. A name only tagged locally is not one.
   */
  readonly repoDigests: readonly string[];
  readonly tagTimes: ReadonlyMap<string, string>;
  /**
   * index is set when the name is a multi-platform image: its index entry, of which this is the image
   * for the host's platform (else the index's first), as docker with the containerd store shows one.
   */
  readonly index?: Descriptor;
}

export interface AddImageOptions {
  /** manifest as an object (stored as canonical JSON) or as raw bytes (kept byte-exact, e.g. from a registry). */
  readonly manifest: Manifest | Uint8Array;
  /** config, if not written yet; it must match manifest.config. Layers must already be in the store. */
  readonly config?: ImageConfig | Uint8Array;
  /** names to give the image (normalised; each moves away from any image that had it). */
  readonly names?: readonly string[];
  /** parent is the image id this image was built on. */
  readonly parent?: string;
  /**
   * repoDigests: the image is held by digest in these repositories (it was pulled from them);
   * `true` means the repositories of `names`.
   */
  readonly repoDigests?: boolean | readonly string[];
  /**
   * remote: layers the store does not hold are allowed, recorded as fetchable
   * from this repository (a lazily resolved base image); they are fetched,
   * verified, only when something reads them ({@link ImageStore.openBlob}).
   */
  readonly remote?: { readonly registry: string; readonly repository: string };
}

export interface EnsureBlobOptions {
  readonly signal?: AbortSignal;
  /** lease holds a fetched blob (see {@link StoreWriteOptions.lease}). */
  readonly lease?: BlobLease;
  /** fetchBlob overrides the store's fetcher for this call. */
  readonly fetchBlob?: BlobFetcher;
}

export interface StoreWriteOptions {
  readonly signal?: AbortSignal;
  /**
   * lease is the writing operation's lease ({@link ImageStore.lease}); the
   * blob is added to it before it becomes visible. Without one, the blob is
   * held by the store's own lease until an image names it (addImage),
   * discardBlobs drops it, or the store closes: fine for one operation at a
   * time, but concurrent operations sharing blobs need a lease each.
   */
  readonly lease?: BlobLease;
  /**
   * measure (default true) computes a layer's docker SIZE while it streams
   * in and records it, so listing never reads the layer; writers that know
   * the size already (recordLayerSize) pass false.
   */
  readonly measure?: boolean;
}

export interface RemoveOptions {
  readonly force?: boolean;
}

/**
 * RemoveResult lists what was untagged (full names) and deleted (image ids),
 * and the space freed as docker counts it: the SIZE of the layers no image
 * uses any more (manifests and configs do not count).
 */
export interface RemoveResult {
  readonly untagged: string[];
  readonly deleted: Digest[];
  /** deletedLayers are the chain IDs of the layers removed with them, top layer first (docker prints them too). */
  readonly deletedLayers: Digest[];
  reclaimedBytes: number;
}

interface Content {
  readonly manifest: Manifest;
  readonly config: ImageConfig;
  readonly id: Digest;
}

/**
 * ImageStore is the local image store: an OCI layout whose index.json names
 * images with `org.opencontainers.image.ref.name` (the full name). Blobs are
 * written lock-free (atomic renames, leased against concurrent GC); index.json
 * is changed only under a lock file and replaced by rename, so concurrent
 * processes lose no tag and a killed process leaves no broken index.
 */
export class ImageStore {
  readonly root: string;
  readonly layout: OciLayout;
  readonly #leases: Leases;
  /** #unowned holds blobs written without a lease (see {@link StoreWriteOptions.lease}). */
  readonly #unowned: BlobLease;
  readonly #lockPath: string;
  readonly #lockTimeoutMs: number | undefined;
  readonly #content = new Map<Digest, Content>();
  readonly #sizes: LayerSizes;
  readonly #remote: RemoteBlobs;
  /** fetchBlob fetches absent blobs recorded as remote (see {@link OpenStoreOptions.fetchBlob}); settable once a client exists. */
  fetchBlob: BlobFetcher | undefined;
  #swept: Promise<void> | undefined;

  private constructor(
    root: string,
    layout: OciLayout,
    leases: Leases,
    unowned: BlobLease,
    lockTimeoutMs: number | undefined,
  ) {
    this.root = root;
    this.layout = layout;
    this.#leases = leases;
    this.#unowned = unowned;
    this.#lockPath = join(root, "index.json.lock");
    this.#lockTimeoutMs = lockTimeoutMs;
    this.#sizes = new LayerSizes(layout);
    this.#remote = new RemoteBlobs(root);
  }

  /**
   * open opens (creating if needed) the store at `root`. A relative root is
   * made absolute: the build hands paths under it to runc, overlay mounts and
   * shells that run in other directories.
   */
  static async open(options: OpenStoreOptions = {}): Promise<ImageStore> {
    const given = options.root ?? defaultStoreRoot();
    await createStoreRoot(given);
    const root = resolve(given);
    const lock = join(root, "index.json.lock");
    const lockOptions = options.lockTimeoutMs !== undefined ? { timeoutMs: options.lockTimeoutMs } : {};
    const leases = new Leases(root, (fn) => withFileLock(lock, fn, lockOptions));
    const unowned = leases.lease();
    // Blobs written through `layout` directly are held by the store's own lease too.
    const layout = await OciLayout.open(root, { create: true, beforeCommit: (d) => unowned.add([d]) });
    const store = new ImageStore(root, layout, leases, unowned, options.lockTimeoutMs);
    store.fetchBlob = options.fetchBlob;
    return store;
  }

  /** close releases every blob lease of this instance. */
  async close(): Promise<void> {
    await this.#leases.close();
  }

  /**
   * lease starts one operation's lease (a pull, a load, an import) holding
   * `digests`: they are protected from garbage collection in every process
   * until `release()`, however other operations' leases on the same blobs
   * end. Pass it to writeBlob and discardBlobs; release it in a `finally`
   * once the image naming the blobs is added (or the operation gave up).
   * Lease blobs before checking that they are present: a blob found present
   * after its lease is on disk stays (see `Leases` in lease.ts).
   */
  async lease(digests: Iterable<Digest> = []): Promise<BlobLease> {
    const lease = this.#leases.lease();
    await this.#writing("lease blobs", () => lease.add(digests));
    return lease;
  }

  /**
   * writeBlob is the layout's verified, atomic blob write; the blob is leased
   * (by `options.lease`, else by the store until an image names it) before it
   * becomes visible, so a concurrent collection cannot delete it. A blob that
   * is a layer has its docker SIZE measured as it streams (inflating at most
   * a bounded amount, see LayerMeter) and recorded.
   */
  async writeBlob(
    source: BlobSource,
    expected?: { digest: Digest | string; size?: number },
    options: StoreWriteOptions = {},
  ): Promise<{ digest: Digest; size: number }> {
    const { lease, signal } = options;
    const meter = options.measure === false ? undefined : new LayerMeter();
    try {
      const written = await this.#writing("write a blob", () =>
        this.layout.writeBlob(source, expected, {
          ...(signal && { signal }),
          ...(lease && { beforeCommit: (d: Digest) => lease.add([d]) }),
          ...(meter && { tap: (chunk: Uint8Array) => meter.write(chunk) }),
        }),
      );
      const size = await meter?.end(written.size);
      // The size is a convenience: a store that cannot keep it (a full disk) shows the blob size.
      if (size !== undefined) await this.#sizes.record(written.digest, size).catch(() => {});
      return written;
    } finally {
      meter?.abort();
    }
  }

  /**
   * recordLayerSize remembers a stored layer's docker SIZE (writers that know
   * it: createLayer's diskSize), so listing never has to read the layer.
   */
  recordLayerSize(digest: Digest, diskSize: number): Promise<void> {
    return this.#writing("record a layer size", () => this.#sizes.record(digest, diskSize));
  }

  /**
   * unpackedSize is docker's image SIZE: what the layers' files take unpacked
   * (file bytes and symlink targets; not tar headers, not the gzip blobs), as
   * recorded when each layer was written. It never reads a layer: one with no
   * recorded size (written by an older tsbuild or another tool, zstd, too
   * big to measure) counts its stored blob size.
   */
  async unpackedSize(image: StoredImage): Promise<number> {
    const sizes = await Promise.all(image.manifest.layers.map((l) => this.#sizes.of(l)));
    return sizes.reduce((a, b) => a + b, 0);
  }

  /** layerSize is one layer's docker SIZE: its unpacked bytes as recorded, else its blob's size (see unpackedSize). */
  layerSize(layer: Descriptor): Promise<number> {
    return this.#sizes.of(layer);
  }

  /**
   * addImage stores an image whose layers are already written: it writes the
   * config and manifest blobs (under a lease of its own), then adds the index
   * entry under the lock. The caller's lease on the layers is the caller's
   * to release; blobs written without a lease are released once named.
   */
  async addImage(options: AddImageOptions): Promise<StoredImage> {
    const own = this.#leases.lease();
    try {
      return await this.#writing("add an image", () => this.#addImage(options, own));
    } finally {
      await own.release();
    }
  }

  async #addImage(options: AddImageOptions, own: BlobLease): Promise<StoredImage> {
    const write = { beforeCommit: (d: Digest) => own.add([d]) };
    const bytes =
      options.manifest instanceof Uint8Array
        ? Buffer.from(options.manifest)
        : canonicalJson(options.manifest);
    const manifest = parseManifest(bytes);
    if (options.config !== undefined) {
      const cfg =
        options.config instanceof Uint8Array ? Buffer.from(options.config) : canonicalJson(options.config);
      parseImageConfig(cfg);
      await this.layout.writeBlob(cfg, manifest.config, write);
    }
    const written = await this.layout.writeBlob(
      bytes,
      { digest: digestOf(bytes), size: bytes.length },
      write,
    );
    const names = (options.names ?? []).map(normalizeName);
    const parent = options.parent === undefined ? undefined : parseDigest(options.parent, "parent");
    const descriptor: Descriptor = {
      mediaType: manifest.mediaType ?? MediaType.OciManifest,
      digest: written.digest,
      size: written.size,
    };
    const used = [written.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
    await this.#mutate(async (entries) => {
      // Recorded under the lock, so a concurrent collection cannot drop a record before the entry names it.
      if (options.remote) {
        const absent: Descriptor[] = [];
        for (const l of manifest.layers)
          if (!isForeignLayer(l.mediaType) && !(await this.layout.hasBlob(l.digest))) absent.push(l);
        await this.#remote.record(options.remote.registry, options.remote.repository, absent);
      }
      if (!(await this.layout.hasBlob(manifest.config.digest))) {
        throw new OciError("BLOB_NOT_FOUND", "the image references a blob the store does not have", {
          where: manifest.config.digest,
        });
      }
      for (const d of manifest.layers.filter((l) => !isForeignLayer(l.mediaType))) {
        if (!(await this.layout.hasBlob(d.digest)) && !(await this.#remote.get(d.digest))) {
          throw new OciError("BLOB_NOT_FOUND", "the image references a blob the store does not have", {
            where: d.digest,
          });
        }
      }
      let entry = entries.find((e) => e.descriptor.digest === written.digest);
      if (!entry) {
        entry = { descriptor, names: [], tagTimes: new Map() };
        entries.push(entry);
      }
      if (parent !== undefined) entry.descriptor = setAnnotation(entry.descriptor, PARENT, parent);
      if (options.repoDigests) {
        const repos =
          options.repoDigests === true
            ? names.map((n) => parseReference(n).name)
            : options.repoDigests.map((r) => parseReference(r).name);
        entry.descriptor = setAnnotation(entry.descriptor, REPO_DIGESTS, addRepos(entry, repos));
      }
      for (const name of names) attachName(entries, entry, name);
      return true;
    });
    await this.#unowned.release(used);
    return this.resolve(`${written.digest}`, { byManifest: true });
  }

  /**
   * addIndex stores a multi-platform image: an index (OCI index or Docker manifest list) whose
   * manifests, configs and layers are already in the store (layers may be recorded remote). It writes
   * the index blob and names it; the platforms' manifests stay unnamed, reachable through it.
   */
  async addIndex(options: {
    readonly index: Uint8Array;
    readonly names?: readonly string[];
  }): Promise<Descriptor> {
    const own = this.#leases.lease();
    try {
      return await this.#writing("add an image", async () => {
        const bytes = Buffer.from(options.index);
        const index = parseIndex(bytes);
        for (const m of index.manifests) {
          if (!(await this.layout.hasBlob(m.digest))) {
            throw new OciError("BLOB_NOT_FOUND", "the index references a manifest the store does not have", {
              where: m.digest,
            });
          }
        }
        const written = await this.layout.writeBlob(
          bytes,
          { digest: digestOf(bytes), size: bytes.length },
          { beforeCommit: (d: Digest) => own.add([d]) },
        );
        const descriptor: Descriptor = {
          mediaType: index.mediaType ?? MediaType.OciIndex,
          digest: written.digest,
          size: written.size,
        };
        const names = (options.names ?? []).map(normalizeName);
        await this.#mutate(async (entries) => {
          let entry = entries.find((e) => e.descriptor.digest === written.digest);
          if (!entry) {
            entry = { descriptor, names: [], tagTimes: new Map() };
            entries.push(entry);
          }
          for (const name of names) attachName(entries, entry, name);
          return true;
        });
        await this.#unowned.release([written.digest]);
        return descriptor;
      });
    } finally {
      await own.release();
    }
  }

  /**
   * recordRemote notes that absent blobs can be fetched from `registry/repository` (a build cache's
   * layers, adopted without downloading them), as addImage's `remote` does for a lazy image's layers.
   * Blobs the store holds are not recorded. The records last until a collection finds no image naming them.
   */
  async recordRemote(registry: string, repository: string, blobs: readonly Descriptor[]): Promise<void> {
    const absent: Descriptor[] = [];
    for (const b of blobs) if (!(await this.layout.hasBlob(b.digest))) absent.push(b);
    if (absent.length > 0)
      await this.#writing("record remote blobs", () => this.#remote.record(registry, repository, absent));
  }

  /** remoteBlob is where an absent blob can be fetched, as recorded by addImage's `remote`; undefined when unknown. */
  remoteBlob(digest: Digest): Promise<RemoteBlob | undefined> {
    return this.#remote.get(digest);
  }

  /**
   * ensureBlob makes sure the store holds `desc`'s blob: present, it returns
   * at once; absent but recorded as remote, it is fetched through the
   * fetcher and verified against digest and size on the way in. A blob with
   * no record, no fetcher, or an unreachable source is BLOB_NOT_FOUND naming
   * the blob and where it was to come from.
   */
  async ensureBlob(
    desc: Pick<Descriptor, "digest" | "size">,
    options: EnsureBlobOptions = {},
  ): Promise<void> {
    if (await this.layout.hasBlob(desc.digest)) return;
    const remote = await this.#remote.get(desc.digest);
    // Not recorded either: the layout's own error (where: the digest), as reading it would give.
    if (remote === undefined) throw new OciError("BLOB_NOT_FOUND", "blob not found", { where: desc.digest });
    const from = `${remote.registry}/${remote.repository}`;
    const fetch = options.fetchBlob ?? this.fetchBlob;
    if (fetch === undefined) {
      throw new OciError(
        "BLOB_NOT_FOUND",
        `blob ${desc.digest} is not in the store yet and nothing can fetch it from ${from} here`,
        { where: `${this.root}: blob ${desc.digest}` },
      );
    }
    try {
      await this.writeBlob(
        fetch(remote, { ...(options.signal && { signal: options.signal }) }),
        { digest: desc.digest, size: remote.size },
        { ...(options.signal && { signal: options.signal }), ...(options.lease && { lease: options.lease }) },
      );
    } catch (err) {
      if (options.signal?.aborted) throw err;
      const detail = err instanceof Error ? err.message : String(err);
      const code =
        isOciError(err, "DIGEST_MISMATCH") || isOciError(err, "SIZE_MISMATCH") ? err.code : "BLOB_NOT_FOUND";
      throw new OciError(code, `blob ${desc.digest} could not be fetched from ${from}: ${detail}`, {
        where: `${this.root}: blob ${desc.digest}`,
        cause: err,
      });
    }
  }

  /** openBlob streams a blob, fetching it first when it is remote ({@link ensureBlob}). */
  async openBlob(
    desc: Pick<Descriptor, "digest" | "size">,
    options: EnsureBlobOptions = {},
  ): Promise<Readable> {
    await this.ensureBlob(desc, options);
    return this.layout.openBlob(desc.digest);
  }

  /**
   * resolve finds an image by full or short name (`custom-nginx:packaged`),
   * by `name@sha256:<manifest digest>`, or by image id (config digest, full or
   * a hex prefix as docker allows); IMAGE_NOT_FOUND or AMBIGUOUS_REFERENCE.
   */
  async resolve(nameOrId: string, options: { byManifest?: boolean } = {}): Promise<StoredImage> {
    const entries = await this.#entries();
    if (options.byManifest) {
      const e = entries.find((x) => x.descriptor.digest === nameOrId);
      if (!e) throw notFound(nameOrId);
      return this.#image(e);
    }
    return this.#image((await locate(entries, (e) => this.#idOf(e), nameOrId)).entry);
  }

  /**
   * images returns every image (named and dangling). An image whose manifest
   * or config cannot be read (deleted or edited blob) is left out and handed
   * to `onUnreadable`, so one broken image does not make the rest unusable.
   */
  async images(
    options: {
      onUnreadable?: (entry: UnreadableImage) => void;
      /** multiPlatform adds each multi-platform image as its host platform's image (with `index` set). */
      multiPlatform?: boolean;
    } = {},
  ): Promise<StoredImage[]> {
    const listed = await this.#listed(await this.#entries(), options.multiPlatform === true);
    const read = await Promise.all(
      listed.map(async (e) => {
        try {
          return await this.#image(e);
        } catch (err) {
          options.onUnreadable?.({ manifestDigest: e.descriptor.digest, names: [...e.names], error: err });
          return undefined;
        }
      }),
    );
    return read.filter((i) => i !== undefined);
  }

  /** tag gives the image `source` resolves to the name `name` (moved away from any other image). */
  async tag(source: string, name: string): Promise<void> {
    const full = normalizeName(name);
    await this.#mutate(async (entries) => {
      const { entry } = await locate(entries, (e) => this.#idOf(e), source);
      attachName(entries, entry, full);
      return true;
    });
  }

  /**
   * addRepoDigest records that `repository` holds the image with manifest
   * `manifestDigest` by digest (after a push), as docker adds a RepoDigest.
   * Nothing happens when no stored image has that manifest.
   */
  async addRepoDigest(manifestDigest: Digest, repository: string): Promise<void> {
    const repo = parseReference(repository).name;
    await this.#mutate(async (entries) => {
      const entry = entries.find((e) => e.descriptor.digest === manifestDigest);
      if (!entry || repoDigestsOf(entry).includes(repo)) return false;
      entry.descriptor = setAnnotation(entry.descriptor, REPO_DIGESTS, addRepos(entry, [repo]));
      return true;
    });
  }

  /** untag removes a name; the image stays (dangling when it was its last name). */
  async untag(name: string): Promise<void> {
    const full = normalizeName(name);
    await this.#mutate(async (entries) => {
      const entry = entries.find((e) => e.names.includes(full));
      if (!entry) throw notFound(name);
      detachName(entry, full);
      return true;
    });
  }

  /**
   * remove is `docker rmi`: by name it untags, and deletes the image when no
   * name is left (and no child image needs it); by id it deletes the image,
   * refusing without `force` when the image is in several repositories or has
   * child images. Untagged parents are deleted with their last child, and
   * unreferenced blobs are collected.
   */
  async remove(nameOrId: string, options: RemoveOptions = {}): Promise<RemoveResult> {
    const result: RemoveResult = { untagged: [], deleted: [], deletedLayers: [], reclaimedBytes: 0 };
    await this.#mutate(async (entries) => {
      const { entry, byName } = await locate(entries, (e) => this.#idOf(e), nameOrId);
      // An image whose documents cannot be read can still be removed by name (its id is then a best guess).
      const id = (await this.#idOf(entry)) ?? entry.descriptor.digest;
      const children = await this.#children(entries, id);
      if (byName !== undefined) {
        detachName(entry, byName);
        result.untagged.push(byName);
        if (entry.names.length > 0 || children.length > 0) return true;
      } else {
        const repos = new Set(entry.names.map((n) => parseReference(n).name));
        if (repos.size > 1 && !options.force) {
          throw new OciError(
            "IMAGE_IN_USE",
            `conflict: unable to delete ${shortId(id)} (must be forced) - image is referenced in multiple repositories`,
          );
        }
        if (children.length > 0 && !options.force) {
          throw new OciError(
            "IMAGE_IN_USE",
            `conflict: unable to delete ${shortId(id)} (must be forced) - image has dependent child images`,
          );
        }
        result.untagged.push(...entry.names);
        entry.names = [];
      }
      await this.#delete(entries, entry, result);
      return true;
    }, result);
    return result;
  }

  /**
   * prune is `docker image prune`: deletes dangling images (no name, no
   * child), or with `all` every image, and collects their blobs.
   */
  async prune(options: { all?: boolean } = {}): Promise<RemoveResult> {
    const result: RemoveResult = { untagged: [], deleted: [], deletedLayers: [], reclaimedBytes: 0 };
    await this.#mutate(async (entries) => {
      for (;;) {
        const victims: StoreEntry[] = [];
        for (const e of entries) {
          if (!options.all && e.names.length > 0) continue;
          // An unreadable image is kept: prune removes only what it can show is unused.
          const id = isImageEntry(e)
            ? await this.#readableId(e)
            : (await this.#isMultiPlatform(e))
              ? e.descriptor.digest
              : undefined;
          if (id !== undefined && (await this.#children(entries, id)).length === 0) victims.push(e);
        }
        if (victims.length === 0) return result.deleted.length > 0;
        for (const e of victims) {
          result.untagged.push(...e.names);
          e.names = [];
          await this.#delete(entries, e, result, false);
        }
      }
    }, result);
    return result;
  }

  /**
   * discardBlobs deletes blobs an operation wrote but will not use (e.g. a
   * failed pull): it releases them from `options.lease` (default: the store's
   * own lease of writes without one), then, under the lock, deletes those no
   * image references and no lease holds, in this process or another.
   * Deleting blobs directly would race with a concurrent writer of the same
   * content, or with an operation that found them present.
   */
  async discardBlobs(digests: readonly Digest[], options: { lease?: BlobLease } = {}): Promise<Digest[]> {
    await (options.lease ?? this.#unowned).release(digests);
    const removed: Digest[] = [];
    await this.#writing("delete blobs", () => this.#discardLocked(digests, removed));
    return removed;
  }

  async #discardLocked(digests: readonly Digest[], removed: Digest[]): Promise<void> {
    await withFileLock(
      this.#lockPath,
      async () => {
        const keep = await reachableBlobs(this.layout, (await this.layout.readIndex()).manifests);
        for (const d of await leasedDigests(this.root)) keep.add(d);
        for (const d of digests) {
          if (keep.has(d) || !(await this.layout.hasBlob(d))) continue;
          await this.layout.deleteBlob(d);
          removed.push(d);
        }
        await this.#sizes.forget(removed);
      },
      this.#lockOptions(),
    );
  }

  /** gc collects every blob no image references and no live process has leased. */
  async gc(): Promise<{ removed: readonly Digest[]; reclaimedBytes: number }> {
    return this.#writing("collect unused blobs", () =>
      withFileLock(
        this.#lockPath,
        async () => {
          const gc = await this.layout.gc({ keep: () => leasedDigests(this.root) });
          await this.#sizes.forget(gc.removed);
          await this.#pruneRemote();
          return gc;
        },
        this.#lockOptions(),
      ),
    );
  }

  /** list gives one row per name, plus one per dangling image that no child hides, newest first (as `docker images`). */
  async list(): Promise<ImageRow[]> {
    const entries = await this.#entries();
    const listed = await this.#listed(entries, true);
    const images = await Promise.all(listed.map((e) => this.#image(e)));
    const parents = new Set(images.map((i) => i.parent).filter((p) => p !== undefined));
    const rows: ImageRow[] = [];
    for (const img of images) {
      // A multi-platform image: one row, its id the index's, its size and time the host platform's image's.
      const size = await this.unpackedSize(img);
      const id = img.index?.digest ?? img.id;
      const base = {
        id,
        manifestDigest: img.index?.digest ?? img.manifestDigest,
        created: img.created,
        size,
      };
      if (img.names.length === 0) {
        if (!parents.has(img.id))
          rows.push({ ...base, name: undefined, repository: undefined, tag: undefined });
        continue;
      }
      for (const name of img.names) {
        const ref = parseReference(name);
        rows.push({ ...base, name, repository: ref.familiarName, tag: ref.tag });
      }
    }
    // Newest first, as docker lists; ties keep index order.
    const time = (c: string | undefined) => (c === undefined ? 0 : Date.parse(c) || 0);
    return rows.sort((a, b) => time(b.created) - time(a.created));
  }

  /** history is `docker history`: newest first, layer rows sized, empty layers 0, ancestor ids where known. */
  async history(nameOrId: string): Promise<HistoryRow[]> {
    const img = await this.resolve(nameOrId);
    const ancestors: StoredImage[] = [];
    const byId = new Map((await this.images()).map((i) => [i.id, i]));
    for (let p = img.parent; p !== undefined && ancestors.length < 1000; ) {
      const a = byId.get(p);
      if (!a) break;
      ancestors.push(a);
      p = a.parent;
    }
    return historyRows(img, ancestors, await Promise.all(img.manifest.layers.map((l) => this.#sizes.of(l))));
  }

  /** inspect is `docker image inspect` for one image. */
  async inspect(nameOrId: string): Promise<InspectResult> {
    const img = await this.resolve(nameOrId);
    return inspectResult(img, await this.unpackedSize(img));
  }

  /**
   * layersInUse are the layer digests some stored image refers to, every platform of a multi-platform
   * image included (what a build cache prune must not call unused). Unreadable images add nothing.
   */
  async layersInUse(): Promise<Set<Digest>> {
    const out = new Set<Digest>();
    for (const e of await this.#entries()) {
      let manifests: readonly Descriptor[] = [];
      if (isImageEntry(e)) manifests = [e.descriptor];
      else if (isIndexEntry(e)) {
        const bytes = await this.layout.readBlob(e.descriptor.digest).catch(() => undefined);
        if (bytes) manifests = parseIndex(bytes, e.descriptor.mediaType).manifests;
      }
      for (const m of manifests) {
        const content = await this.#contentOf(m).catch(() => undefined);
        for (const l of content?.manifest.layers ?? []) out.add(l.digest);
      }
    }
    return out;
  }

  /** names lists every full name in the store, multi-platform index entries included. */
  async names(): Promise<string[]> {
    return (await this.#entries()).flatMap((e) => e.names);
  }

  /**
   * indexNamed returns the descriptor of a multi-platform image (an index entry) named `name`,
   * which StoredImage does not model; undefined when the name is a plain image or unknown.
   */
  async indexNamed(name: string): Promise<Descriptor | undefined> {
    const full = normalizeName(name);
    const entry = (await this.#entries()).find(
      (e) => e.names.includes(full) && isIndexMediaType(e.descriptor.mediaType),
    );
    return entry?.descriptor;
  }

  // ---- internals ----

  /** #listed are the image entries, and the multi-platform images' with `multiPlatform`. */
  async #listed(entries: readonly StoreEntry[], multiPlatform: boolean): Promise<StoreEntry[]> {
    const keep = await Promise.all(
      entries.map(async (e) => isImageEntry(e) || (multiPlatform && (await this.#isMultiPlatform(e)))),
    );
    return entries.filter((_, i) => keep[i]);
  }

  async #entries(): Promise<StoreEntry[]> {
    return entriesFromIndex(await this.layout.readIndex());
  }

  /** #mutate runs `fn` on the entries under the lock, writes the index if it says so, and collects garbage after deletions. */
  async #mutate(fn: (entries: StoreEntry[]) => Promise<boolean>, gcInto?: RemoveResult): Promise<void> {
    await this.#writing("change the image index", () => this.#mutateLocked(fn, gcInto));
  }

  async #mutateLocked(fn: (entries: StoreEntry[]) => Promise<boolean>, gcInto?: RemoveResult): Promise<void> {
    await withFileLock(
      this.#lockPath,
      async () => {
        const index: Index = await this.layout.readIndex();
        const entries = entriesFromIndex(index);
        if (!(await fn(entries))) return;
        await this.layout.writeIndex(indexFromEntries(entries, index));
        if (gcInto && gcInto.deleted.length > 0) {
          // Sizes are known (or measured) before collection deletes the layers.
          const kept = new Set(entries.map((e) => e.descriptor.digest));
          const layers = new Map<Digest, { size: number; chainId: Digest | undefined }>();
          for (const e of entriesFromIndex(index)) {
            if (kept.has(e.descriptor.digest)) continue;
            // A multi-platform image's layers are its platforms' images' layers.
            const manifests = isImageEntry(e)
              ? [e.descriptor]
              : isIndexEntry(e)
                ? await this.layout
                    .readBlob(e.descriptor.digest)
                    .then((b) => parseIndex(b, e.descriptor.mediaType).manifests)
                    .catch(() => [])
                : [];
            for (const m of manifests) {
              const content = await this.#contentOf(m).catch(() => undefined);
              if (content === undefined) continue;
              const { manifest, config } = content;
              const chain = chainIds(config.rootfs.diff_ids);
              for (const [i, l] of [...manifest.layers.entries()].reverse())
                layers.set(l.digest, { size: await this.#sizes.of(l), chainId: chain[i] });
            }
          }
          const gc = await this.layout.gc({ keep: () => leasedDigests(this.root) });
          await this.#sizes.forget(gc.removed);
          await this.#pruneRemote();
          const removed = new Set(gc.removed);
          for (const [d, l] of layers) {
            if (!removed.has(d)) continue;
            gcInto.reclaimedBytes += l.size;
            if (l.chainId) gcInto.deletedLayers.push(l.chainId);
          }
        }
      },
      this.#lockOptions(),
    );
  }

  /**
   * #writing runs one write operation: first (once per instance) it removes
   * the temp files and leases of processes that are gone, so debris of a
   * killed writer does not pile up; then it runs `fn`, and words a
   * file-system failure as the store's: READ_ONLY "the image store is
   * read-only", NO_SPACE, or FILE_ERROR naming the path. `op` is what was
   * being done ("tag an image").
   */
  async #writing<T>(op: string, fn: () => Promise<T>): Promise<T> {
    this.#swept ??= Promise.all([this.layout.cleanTemp(), this.#sizes.cleanTemp()]).then(
      () => {},
      () => {},
    );
    await this.#swept;
    try {
      return await fn();
    } catch (err) {
      const e = fileError(err, `trying to ${op} in ${this.root}`);
      if (isOciError(e, "READ_ONLY")) {
        throw new OciError("READ_ONLY", `the image store is read-only, cannot ${op}`, {
          where: this.root,
          cause: err,
        });
      }
      throw e;
    }
  }

  /** #pruneRemote drops the remote records of lazy blobs no image references (under the index lock). */
  async #pruneRemote(): Promise<void> {
    const referenced = await reachableBlobs(this.layout, (await this.layout.readIndex()).manifests);
    await this.#remote.prune(referenced);
  }

  #lockOptions(): { timeoutMs?: number } {
    return this.#lockTimeoutMs !== undefined ? { timeoutMs: this.#lockTimeoutMs } : {};
  }

  /** #delete drops an unnamed entry, then its parent too if that is unnamed and now childless (docker's prune of parents). */
  async #delete(
    entries: StoreEntry[],
    entry: StoreEntry,
    result: RemoveResult,
    cascade = true,
  ): Promise<void> {
    const i = entries.indexOf(entry);
    if (i < 0) return;
    entries.splice(i, 1);
    const id = (await this.#idOf(entry)) ?? entry.descriptor.digest;
    if (!entries.some((e) => this.#cachedId(e) === id)) result.deleted.push(id);
    const parent = entry.descriptor.annotations?.[PARENT];
    if (!cascade || parent === undefined) return;
    for (const p of [...entries]) {
      if (p.names.length > 0 || !isImageEntry(p) || (await this.#idOf(p)) !== parent) continue;
      if ((await this.#children(entries, parent)).length === 0) await this.#delete(entries, p, result);
    }
  }

  async #children(entries: readonly StoreEntry[], id: string): Promise<StoreEntry[]> {
    return entries.filter((e) => e.descriptor.annotations?.[PARENT] === id);
  }

  #cachedId(e: StoreEntry): Digest | undefined {
    return this.#content.get(e.descriptor.digest)?.id;
  }

  /** #readableId is the image id when the manifest and config both read; undefined otherwise. */
  async #readableId(e: StoreEntry): Promise<Digest | undefined> {
    return (await this.#contentOf(e.descriptor).catch(() => undefined))?.id;
  }

  /**
   * #idOf is the image id, taken from the manifest alone when only the config
   * is unreadable; undefined when the manifest cannot be read either (such an
   * image can still be found by name).
   */
  async #idOf(e: StoreEntry): Promise<Digest | undefined> {
    // A multi-platform image has no one config: its id is its index's digest (docker's, containerd store).
    if (isIndexEntry(e)) return (await this.#isMultiPlatform(e)) ? e.descriptor.digest : undefined;
    const id = await this.#readableId(e);
    if (id !== undefined || !isManifestMediaType(e.descriptor.mediaType)) return id;
    try {
      return parseManifest(await this.layout.readBlob(e.descriptor.digest), e.descriptor.mediaType).config
        .digest;
    } catch {
      return undefined;
    }
  }

  async #contentOf(desc: Descriptor): Promise<Content> {
    const cached = this.#content.get(desc.digest);
    if (cached) return cached;
    if (!isManifestMediaType(desc.mediaType)) {
      throw new OciError(
        "UNSUPPORTED_MEDIA_TYPE",
        `store entry is not an image manifest (${desc.mediaType})`,
        {
          where: desc.digest,
        },
      );
    }
    let manifest: Manifest;
    let config: ImageConfig;
    try {
      manifest = parseManifest(await this.layout.readBlob(desc.digest), desc.mediaType);
    } catch (err) {
      throw locateError(err, `${this.layout.root}: index.json: manifest ${desc.digest}`);
    }
    try {
      config = parseImageConfig(await this.layout.readBlob(manifest.config.digest));
    } catch (err) {
      throw locateError(
        err,
        `${this.layout.root}: config ${manifest.config.digest} of manifest ${desc.digest}`,
      );
    }
    const content = { manifest, config, id: manifest.config.digest };
    this.#content.set(desc.digest, content);
    return content;
  }

  /**
   * #isMultiPlatform: an index entry that lists an image manifest is a multi-platform image; another
   * index (empty, or of artifacts another tool added) is kept but is not an image.
   */
  async #isMultiPlatform(e: StoreEntry): Promise<boolean> {
    if (!isIndexEntry(e)) return false;
    try {
      const index = parseIndex(await this.layout.readBlob(e.descriptor.digest), e.descriptor.mediaType);
      return index.manifests.some((m) => isManifestMediaType(m.mediaType));
    } catch {
      return false;
    }
  }

  /**
   * #platformOf is the manifest of a multi-platform entry that stands for it: the best match for the
   * host's platform, else the first manifest with a platform (not an attestation), else the first.
   */
  async #platformOf(entry: StoreEntry): Promise<Descriptor> {
    let index: Index;
    try {
      index = parseIndex(await this.layout.readBlob(entry.descriptor.digest), entry.descriptor.mediaType);
    } catch (err) {
      throw locateError(err, `${this.layout.root}: index.json: index ${entry.descriptor.digest}`);
    }
    const images = index.manifests.filter(
      (m) => isManifestMediaType(m.mediaType) && m.platform?.os !== "unknown",
    );
    const chosen =
      selectPlatform(images, hostPlatform())[0] ??
      images[0] ??
      index.manifests.find((m) => isManifestMediaType(m.mediaType));
    if (!chosen) {
      throw new OciError("UNSUPPORTED_MEDIA_TYPE", "store entry is an index of no image manifest", {
        where: entry.descriptor.digest,
      });
    }
    return chosen;
  }

  async #image(entry: StoreEntry): Promise<StoredImage> {
    if (isIndexEntry(entry)) {
      const view = await this.#image({ ...entry, descriptor: await this.#platformOf(entry) });
      return { ...view, repoDigests: repoDigestsOf(entry), index: entry.descriptor };
    }
    const { manifest, config, id } = await this.#contentOf(entry.descriptor);
    const parent = entry.descriptor.annotations?.[PARENT];
    return {
      id,
      manifestDigest: entry.descriptor.digest,
      descriptor: entry.descriptor,
      manifest,
      config,
      names: [...entry.names],
      size: manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0),
      created: config.created,
      parent: parent === undefined ? undefined : parseDigest(parent),
      repoDigests: repoDigestsOf(entry),
      tagTimes: new Map(entry.tagTimes),
    };
  }
}

/**
 * repoDigestsOf reads the REPO_DIGESTS annotation: a comma-separated list of
 * repositories, or "true" as stores before the list wrote it (meaning the
 * repositories of the image's names).
 */
function repoDigestsOf(entry: StoreEntry): string[] {
  const value = entry.descriptor.annotations?.[REPO_DIGESTS];
  if (value === undefined || value === "") return [];
  const repos = value === "true" ? entry.names.map((n) => parseReference(n).name) : value.split(",");
  return [...new Set(repos)];
}

function addRepos(entry: StoreEntry, repos: readonly string[]): string {
  return [...new Set([...repoDigestsOf(entry), ...repos])].join(",");
}
