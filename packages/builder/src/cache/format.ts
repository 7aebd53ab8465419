import {
  canonicalJson,
  type Descriptor,
  type Digest,
  digestOf,
  type Index,
  type Manifest,
  MediaType,
} from "@tsbuild/oci";
import { BuildError } from "../errors.js";
import type { CacheRecord } from "../exec/cache.js";
import type { LayerRef } from "../exec/layer-index.js";

/**
 * CACHE_CONFIG_TYPE is the media type of the blob that holds a cache's records; the cache manifest
 * carries it as its `artifactType` and its config's `mediaType`, so tools can tell a cache from an image.
 */
export const CACHE_CONFIG_TYPE = "application/vnd.tsbuild.cache.config.v1+json";

/** INLINE_CACHE_FIELD is the image config member that holds inline records (`--cache-to type=inline`). */
export const INLINE_CACHE_FIELD = "dev.tsbuild.cache.v1";

/** CacheDocument is the config blob of a cache manifest: the records, sorted by key. */
export interface CacheDocument {
  readonly version: 1;
  readonly records: readonly CacheRecord[];
}

/** CacheArtifact is a cache as blobs: the records blob, the manifest naming it and the layers, the index over it. */
export interface CacheArtifact {
  readonly config: Buffer;
  readonly manifest: Buffer;
  readonly index: Buffer;
  readonly indexDigest: Digest;
  readonly layers: readonly LayerRef[];
}

/**
 * cacheArtifact encodes records as an OCI image index with one manifest (artifactType
 * {@link CACHE_CONFIG_TYPE}) whose config is the records and whose layers are the layers they name.
 * Records and layers are sorted, so runners that built the same thing write the same bytes.
 */
export function cacheArtifact(records: readonly CacheRecord[]): CacheArtifact {
  const sorted = portableRecords(records);
  const config = canonicalJson({ version: 1, records: sorted } satisfies CacheDocument);
  const layers = new Map<Digest, LayerRef>();
  for (const r of sorted) if (r.layer) layers.set(r.layer.digest, r.layer);
  const layerList = [...layers.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1));
  const manifest = canonicalJson({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: CACHE_CONFIG_TYPE,
    config: { mediaType: CACHE_CONFIG_TYPE, digest: digestOf(config), size: config.length },
    layers: layerList.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  });
  const index = canonicalJson({
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    artifactType: CACHE_CONFIG_TYPE,
    manifests: [
      {
        mediaType: MediaType.OciManifest,
        artifactType: CACHE_CONFIG_TYPE,
        digest: digestOf(manifest),
        size: manifest.length,
      },
    ],
  });
  return { config, manifest, index, indexDigest: digestOf(index), layers: layerList };
}

/** portableRecords are records as a cache holds them: one per key, sorted by key, exported fields only. */
export function portableRecords(records: readonly CacheRecord[]): CacheRecord[] {
  const byKey = new Map<string, CacheRecord>();
  for (const r of records) byKey.set(r.key, portable(r));
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** portable keeps a record's exported fields only (no local size measurements). */
function portable(r: CacheRecord): CacheRecord {
  return {
    key: r.key,
    created: r.created,
    ...(r.layer
      ? {
          layer: {
            digest: r.layer.digest,
            diffId: r.layer.diffId,
            size: r.layer.size,
            mediaType: r.layer.mediaType,
          },
        }
      : {}),
  };
}

/** cacheManifestOf picks the cache manifest's descriptor out of a cache index, else undefined. */
export function cacheManifestOf(index: Index): Descriptor | undefined {
  return index.manifests.find(
    (m) => m.mediaType === MediaType.OciManifest && m.artifactType === CACHE_CONFIG_TYPE,
  );
}

/** isCacheManifest says whether a manifest is a cache manifest (its config holds records). */
export function isCacheManifest(m: Manifest): boolean {
  return m.config.mediaType === CACHE_CONFIG_TYPE;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * parseRecords validates records read from a cache (a config blob or an image config's inline field):
 * a record whose fields are not what they should be is a CACHE_FORMAT error naming where it came from.
 */
export function parseRecords(value: unknown, where: string): CacheRecord[] {
  const list = (value as { records?: unknown } | undefined)?.records ?? value;
  if (!Array.isArray(list)) throw formatError(where, "no records list");
  return list.map((raw, i) => {
    const r = raw as Partial<CacheRecord> & { layer?: Partial<LayerRef> };
    if (typeof r?.key !== "string" || !DIGEST.test(r.key)) throw formatError(where, `record ${i}: bad key`);
    if (typeof r.created !== "string") throw formatError(where, `record ${i}: bad created`);
    if (r.layer !== undefined) {
      const l = r.layer;
      if (
        typeof l.digest !== "string" ||
        !DIGEST.test(l.digest) ||
        typeof l.diffId !== "string" ||
        !DIGEST.test(l.diffId) ||
        typeof l.size !== "number" ||
        typeof l.mediaType !== "string"
      )
        throw formatError(where, `record ${i}: bad layer`);
      return {
        key: r.key,
        created: r.created,
        layer: { digest: l.digest, diffId: l.diffId, size: l.size, mediaType: l.mediaType } as LayerRef,
      };
    }
    return { key: r.key, created: r.created };
  });
}

function formatError(where: string, what: string): BuildError {
  return new BuildError("CACHE_FORMAT", `${where} is not a tsbuild cache: ${what}`);
}
