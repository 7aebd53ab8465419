import { resolve } from "node:path";
import {
  type BlobLease,
  type Descriptor,
  type ImageStore,
  MediaType,
  OciLayout,
  parseReference,
} from "@tsbuild/oci";
import { blobFetcher, pushIndex, type RegistryClient } from "@tsbuild/registry-client";
import type { CacheRecord } from "../exec/cache.js";
import type { CacheExport } from "../exec/types.js";
import { cacheArtifact } from "./format.js";

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
    if (!options.client) throw new Error("no registry client to export the cache with");
    for (const b of [art.config, art.manifest, art.index]) await store.writeBlob(b, undefined, write);
    await pushIndex(
      options.client,
      { digest: art.indexDigest, mediaType: MediaType.OciIndex },
      parseReference(target.ref),
      { store, ...(signal ? { signal } : {}) },
    );
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
  return {
    digest: art.indexDigest,
    records: JSON.parse(art.config.toString()).records.length,
    layers: art.layers.length,
  };
}
