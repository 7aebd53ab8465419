/**
 * The OCI distribution API over undici: resolve, pull, push and copy images, with the auth challenge
 * flow, docker credentials, retries and redirects.
 *
 * @packageDocumentation
 * @module @tsbuild/registry-client
 */
export { BlobSources, type BlobSourcesOptions } from "./blob-sources.js";
export {
  blobSize,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_CHUNK_THRESHOLD,
  type RepositoryTarget,
  readBlob,
  type UploadOptions,
  uploadBlob,
} from "./blobs.js";
export type { Endpoint, RegistryClientOptions, RegistryRequest, Scope } from "./client.js";
export { DEFAULT_USER_AGENT, RegistryClient } from "./client.js";
export type { LoadSettingsOptions, RegistrySettings } from "./config.js";
export { createRegistryClient, loadRegistrySettings, tsbuildConfigFile } from "./config.js";
export { type CopyImageOptions, type CopyResult, copy } from "./copy.js";
export { dockerConfigDir } from "./credentials/config-file.js";
export type { DockerCredentialStoreOptions, StoreResult } from "./credentials/docker.js";
export { DockerCredentialStore } from "./credentials/docker.js";
export type { Credential, CredentialStore } from "./credentials/store.js";
export { StaticCredentials } from "./credentials/store.js";
export type {
  DistributionErrorCode,
  DistributionErrorDetail,
  RegistryErrorCode,
  TransportErrorCode,
} from "./errors.js";
export { isRegistryError, RegistryError } from "./errors.js";
export {
  type FetchedManifest,
  fetchManifest,
  headManifest,
  MANIFEST_SIZE_LIMIT,
  type ManifestHead,
  type ManifestTarget,
  putManifest,
} from "./manifest.js";
export {
  type PullLayerStatus,
  type PullOptions,
  type PullProgressEvent,
  type PullResult,
  pullImage,
} from "./pull.js";
export {
  type PushLayerStatus,
  type PushOptions,
  type PushProgressEvent,
  type PushResult,
  pushImage,
  pushIndex,
} from "./push.js";
export { redactHeaders, redactText, redactUrl, registerSecret } from "./redact.js";
export {
  credentialKey,
  DOCKER_HUB,
  DOCKER_HUB_API_HOST,
  DOCKER_HUB_AUTH_KEY,
  isDockerHub,
  normalizeRegistry,
} from "./registry.js";
export {
  blobFetcher,
  CONFIG_SIZE_LIMIT,
  type RemoteImage,
  type ResolveOptions,
  resolveImage,
} from "./resolve.js";
export { type RegistrySinkOptions, type RegistryWrite, registrySink } from "./sink.js";
export {
  TIMEOUT_SETTING_NAMES,
  type TimeoutSettingName,
  type TimeoutValues,
} from "./timeouts-config.js";
export type { RetryInfo, RetryOptions } from "./transport/retry.js";
export type { BodySource } from "./transport/send.js";
export { DEFAULT_TIMEOUTS, TIMEOUT_SETTINGS, type Timeouts } from "./transport/timeouts.js";
