export type { Challenge } from "./auth/challenge.js";
export { parseChallenges, pickChallenge } from "./auth/challenge.js";
export type { Endpoint, RegistryClientOptions, RegistryRequest, Scope } from "./client.js";
export { DEFAULT_USER_AGENT, RegistryClient } from "./client.js";
export type { Credential, CredentialStore } from "./credentials/store.js";
export { StaticCredentials } from "./credentials/store.js";
export type {
  DistributionErrorCode,
  DistributionErrorDetail,
  RegistryErrorCode,
  TransportErrorCode,
} from "./errors.js";
export { isRegistryError, RegistryError } from "./errors.js";
export { redactHeaders, redactText, redactUrl, registerSecret } from "./redact.js";
export {
  apiHost,
  credentialKey,
  DOCKER_HUB,
  DOCKER_HUB_API_HOST,
  DOCKER_HUB_AUTH_KEY,
  isDockerHub,
  isLoopback,
  normalizeRegistry,
} from "./registry.js";
export { DEFAULT_JSON_LIMIT, RegistryResponse } from "./response.js";
export type { RetryInfo, RetryOptions } from "./transport/retry.js";
export type { BodySource } from "./transport/send.js";
