/**
 * The image model, digests, media types, manifests, layer tars, OCI layouts, docker archives and the
 * local image store: pure data and files, no network and no processes.
 *
 * @packageDocumentation
 * @module @tsbuild/oci
 */
export * from "./archive/index.js";
export { canonicalJson, canonicalJsonString } from "./canonical-json.js";
export { imageConfigFromJson, parseImageConfig } from "./config.js";
export { parseDescriptor } from "./descriptor.js";
export * from "./digest.js";
export * from "./errors.js";
export * from "./image/index.js";
export * from "./layer/index.js";
export { writeFileAtomic } from "./layout/fsutil.js";
export {
  type BlobSource,
  type GcOptions,
  type GcResult,
  OCI_LAYOUT_VERSION,
  OciLayout,
  type OpenLayoutOptions,
  type WriteBlobOptions,
} from "./layout/layout.js";
export { type ManifestOrIndex, parseIndex, parseManifest, parseManifestOrIndex } from "./manifest.js";
export * from "./media-types.js";
export {
  formatPlatform,
  hostPlatform,
  matchPlatform,
  normalizePlatform,
  parsePlatform,
  selectPlatform,
} from "./platform.js";
export * from "./reference.js";
export type { BlobLease } from "./store/lease.js";
export { type LockOptions, withFileLock } from "./store/lock.js";
export type { BlobFetcher, RemoteBlob } from "./store/remote.js";
export { defaultStoreRoot } from "./store/root.js";
export {
  type AddImageOptions,
  type EnsureBlobOptions,
  ImageStore,
  type OpenStoreOptions,
  type RemoveOptions,
  type RemoveResult,
  type StoredImage,
  type StoreWriteOptions,
  type UnreadableImage,
} from "./store/store.js";
export type { HistoryRow, ImageRow, InspectResult } from "./store/views.js";
export type * from "./types.js";
