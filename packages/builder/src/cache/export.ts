import { resolve } from "node:path";
import {
  type BlobLease,
  type Descriptor,
  digestOf,
  type ImageStore,
  MediaType,
  OciLayout,
  parseReference,
} from "@tsbuild/oci";
import {
  blobFetcher,
  headManifest,
  pushIndex,
  putManifest,
  type RegistryClient,
} from "@tsbuild/registry-client";
import type { CacheRecord } from "../exec/cache.js";
import type { CacheExport } from "../exec/types.js";
import { type CacheArtifact, cacheArtifact } from "./format.js";

const REF_NAME = "org.opencontainers.image.ref.name";

export interface ExportOptions {
  readonly store: ImageStore;
  readonly client?: RegistryClient;
  readonly lease: BlobLease;
  readonly signal?: AbortSignal;
}

/**
 * exportCache writes records and the layers they name to a registry ref or an OCI layout directory.
 * Everything the index names goes first (layers — mounted or found present where the registry has them —
 * then the records blob and the manifest by digest); the index is tagged last, so the ref never points
 * at anything missing, whatever interrupts the export. Concurrent exports of the same ref each leave a
 * whole cache; the last tag wins.
 */
export async function exportCache(
  target: Exclude<CacheExport, { type: "inline" }>,
  records: readonly CacheRecord[],
  options: ExportOptions,
): Promise<{ digest: string; records: number; layers: number }> {
  const { store, lease, signal } = options;
  const art = cacheArtifact(records);
  const write = { lease, ...(signal ? { signal } : {}) };
  if (target.type === "registry") {
    const client = options.client;
    if (!client) throw new Error("no registry client to export the cache with");
    const ref = parseReference(target.ref);
    const at = { registry: ref.registry, repository: ref.repository, ...(signal ? { signal } : {}) };
    const tag = ref.tag ?? "latest";
    // The same cache is there already (another runner built the same): nothing to write. Rewriting equal
    // bytes is not free: the registry's filesystem driver rewrites files in place, which a reader can catch.
    if ((await headManifest(client, { ...at, reference: tag }))?.digest === art.indexDigest)
      return summary(art);
    const manifestDigest = digestOf(art.manifest);
    if ((await headManifest(client, { ...at, reference: manifestDigest }))?.digest === manifestDigest) {
      // The manifest is there (its blobs were checked when it was put): only the tag moves.
      await putManifest(
        client,
        { ...at, reference: tag },
        { bytes: art.index, mediaType: MediaType.OciIndex },
      );
      return summary(art);
    }
    for (const b of [art.config, art.manifest, art.index]) await store.writeBlob(b, undefined, write);
    await pushIndex(client, { digest: art.indexDigest, mediaType: MediaType.OciIndex }, ref, {
      store,
      ...(signal ? { signal } : {}),
    });
  } else {
    const layout = await OciLayout.open(resolve(target.dest), { create: true });
    for (const l of art.layers) {
      if (await layout.hasBlob(l.digest)) continue;
      const desc = { digest: l.digest, size: l.size };
      const fetchBlob = store.fetchBlob ?? (options.client && blobFetcher(options.client));
      await layout.writeBlob(await store.openBlob(desc, { ...write, ...(fetchBlob && { fetchBlob }) }), desc);
    }
    for (const b of [art.config, art.manifest, art.index]) await layout.writeBlob(b);
    const tag = target.tag ?? "latest";
    const index = await layout.readIndex();
    const entry: Descriptor = {
      mediaType: MediaType.OciIndex,
      digest: art.indexDigest,
      size: art.index.length,
      annotations: { [REF_NAME]: tag },
    };
    await layout.writeIndex({
      ...index,
      manifests: [...index.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag), entry],
    });
  }
  return summary(art);
}

function summary(art: CacheArtifact): { digest: string; records: number; layers: number } {
  const records = (JSON.parse(art.config.toString()) as { records: unknown[] }).records.length;
  return { digest: art.indexDigest, records, layers: art.layers.length };
}
