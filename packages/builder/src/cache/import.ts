import { join } from "node:path";
import type { BlobLease } from "@tsbuild/oci";
import {
  type Digest,
  digestOf,
  type ImageStore,
  isOciError,
  OciLayout,
  parseManifestOrIndex,
  parseReference,
  type Reference,
} from "@tsbuild/oci";
import {
  BlobSources,
  fetchManifest,
  isRegistryError,
  type RegistryClient,
  readBlob,
} from "@tsbuild/registry-client";
import type { CacheRecord } from "../exec/cache.js";
import type { CacheImport } from "../exec/types.js";
import { cacheManifestOf, INLINE_CACHE_FIELD, isCacheManifest, parseRecords } from "./format.js";

/** CacheOrigin is where an imported record's layer lives: a registry repository or an OCI layout. */
export type CacheOrigin =
  | { readonly kind: "registry"; readonly registry: string; readonly repository: string }
  | { readonly kind: "local"; readonly layout: OciLayout };

/** ImportedRecord is a record from a `--cache-from` source and where its layer can be had. */
export interface ImportedRecord {
  readonly record: CacheRecord;
  readonly origin: CacheOrigin;
}

/** CACHE_JSON_LIMIT bounds a records blob read from a registry (a cache of thousands of steps fits). */
const CACHE_JSON_LIMIT = 16 * 1024 * 1024;

/**
 * ImportedCache holds the records of the build's `--cache-from` sources, by key (the first source that
 * has a key wins, as the sources were given). Its layers are not fetched: a hit is recorded in the store
 * as a lazy blob of the cache's repository (or copied from a local layout) by {@link adopt}.
 */
export class ImportedCache {
  readonly #records = new Map<string, ImportedRecord>();

  get size(): number {
    return this.#records.size;
  }

  get(key: string): ImportedRecord | undefined {
    return this.#records.get(key);
  }

  #add(records: readonly CacheRecord[], origin: CacheOrigin): void {
    for (const record of records)
      if (!this.#records.has(record.key)) this.#records.set(record.key, { record, origin });
  }

  /**
   * load reads every source; one that does not exist yet (the first build) is skipped silently, one that
   * fails otherwise is skipped with a warning: a cache never fails a build.
   */
  static async load(
    sources: readonly CacheImport[],
    options: { client?: RegistryClient; signal?: AbortSignal; warn: (message: string) => void },
  ): Promise<ImportedCache> {
    const cache = new ImportedCache();
    for (const src of sources) {
      try {
        if (src.type === "registry") {
          if (!options.client) throw new Error("no registry client");
          const ref = parseReference(src.ref);
          const records = await registryRecords(options.client, ref, options.signal);
          if (records)
            cache.#add(records, { kind: "registry", registry: ref.registry, repository: ref.repository });
        } else {
          const layout = await OciLayout.open(src.src).catch((err: unknown) => {
            if (isOciError(err) && /ENOENT|not found|no such/i.test(String(err.message))) return undefined;
            throw err;
          });
          if (layout) cache.#add(await layoutRecords(layout, src.tag ?? "latest"), { kind: "local", layout });
        }
      } catch (err) {
        if (options.signal?.aborted) throw err;
        if (isRegistryError(err, "MANIFEST_UNKNOWN") || isRegistryError(err, "NAME_UNKNOWN")) continue;
        if (isRegistryError(err, "NOT_FOUND")) continue;
        const where = src.type === "registry" ? src.ref : src.src;
        options.warn(`importing cache from ${where}: ${(err as Error).message}`);
      }
    }
    return cache;
  }
}

/**
 * adopt makes an imported record's layer usable by the store without downloading it: a registry layer
 * is recorded as a lazy blob of the cache's repository (fetched, verified, only when a step reads it;
 * pushes to that registry mount it from there), a local one is copied in (verified).
 */
export async function adopt(store: ImageStore, hit: ImportedRecord, lease: BlobLease): Promise<void> {
  const l = hit.record.layer;
  if (!l) return;
  await lease.add([l.digest]);
  if (await store.layout.hasBlob(l.digest)) return;
  const o = hit.origin;
  if (o.kind === "registry") {
    await store.recordRemote(o.registry, o.repository, [
      { digest: l.digest, size: l.size, mediaType: l.mediaType },
    ]);
    await new BlobSources(store.root).record(o.registry, o.repository, [l.digest]).catch(() => {});
  } else {
    await store.writeBlob(o.layout.openBlob(l.digest), { digest: l.digest, size: l.size }, { lease });
  }
}

/** registryRecords reads the records a registry ref holds: a cache index or manifest, or an image's inline records. */
async function registryRecords(
  client: RegistryClient,
  ref: Reference,
  signal: AbortSignal | undefined,
): Promise<CacheRecord[] | undefined> {
  const target = {
    registry: ref.registry,
    repository: ref.repository,
    ...(signal ? { signal } : {}),
  };
  let m = await fetchManifest(client, { ...target, reference: ref.digest ?? ref.tag ?? "latest" });
  if (m.parsed.kind === "index") {
    const child = cacheManifestOf(m.parsed.index);
    if (!child) return undefined;
    m = await fetchManifest(client, { ...target, reference: child.digest });
  }
  if (m.parsed.kind !== "manifest") return undefined;
  const config = m.parsed.manifest.config;
  if (config.size > CACHE_JSON_LIMIT) throw new Error(`its records blob is too large (${config.size} bytes)`);
  const chunks: Buffer[] = [];
  for await (const c of readBlob(client, target, config)) chunks.push(c);
  const bytes = Buffer.concat(chunks);
  if (digestOf(bytes) !== config.digest) throw new Error(`blob ${config.digest} does not match its digest`);
  const where = `${ref.toString()}`;
  const json = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
  if (isCacheManifest(m.parsed.manifest)) return parseRecords(json, where);
  const inline = json[INLINE_CACHE_FIELD];
  return inline === undefined ? undefined : parseRecords(inline, where);
}

/** layoutRecords reads the records of the cache tagged `tag` in an OCI layout (written by type=local). */
async function layoutRecords(layout: OciLayout, tag: string): Promise<CacheRecord[]> {
  const index = await layout.readIndex();
  const entry =
    index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag) ??
    (index.manifests.length === 1 ? index.manifests[0] : undefined);
  if (!entry) return [];
  const where = `${join(layout.root, "index.json")} (${tag})`;
  let parsed = parseManifestOrIndex(await layout.readBlob(entry.digest), entry.mediaType);
  if (parsed.kind === "index") {
    const child = cacheManifestOf(parsed.index);
    if (!child) return [];
    parsed = parseManifestOrIndex(await layout.readBlob(child.digest), child.mediaType);
  }
  if (parsed.kind !== "manifest" || !isCacheManifest(parsed.manifest)) return [];
  const bytes = await layout.readBlob(parsed.manifest.config.digest as Digest);
  return parseRecords(JSON.parse(bytes.toString("utf8")), where);
}
