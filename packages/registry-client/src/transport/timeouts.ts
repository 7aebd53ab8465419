import { RegistryError, type RegistryErrorCode } from "../errors.js";
import type { HttpRequest } from "./send.js";

/**
 * Timeouts bound each phase of one HTTP exchange with a registry, so a
 * registry that stops answering fails a pull or push in seconds instead of
 * holding it for half an hour. There is no deadline for a whole pull or push:
 * a large image on a slow but steady link is legitimate, and the speed floor
 * already bounds every transfer by its size.
 */
export interface Timeouts {
  /** connectMs bounds the TCP connect plus the TLS handshake (0: no limit). */
  connectMs: number;
  /** headersMs bounds the wait for response headers once the request is sent (0: no limit). */
  headersMs: number;
  /**
   * speedLimit is a transfer rate in bytes/s, as curl's `--speed-limit`: a
   * request or response body that moves slower than this for `speedTimeMs`
   * fails. 0 still fails a body that moves nothing at all for that long.
   */
  speedLimit: number;
  /** speedTimeMs is the window the rate is measured over (0: no body check at all). */
  speedTimeMs: number;
}

/**
 * DEFAULT_TIMEOUTS are what a CI job wants: a registry that does not accept
 * a connection in 10 s, or sends no headers 30 s after the request (a
 * registry answers in well under a second; 30 s leaves room for a busy one
 * resolving a large manifest), is down for this job; a body under 1 KiB/s
 * for 30 s is stalled, not slow (a real link moves hundreds of KiB/s at
 * least, and 30 s rides out a congested minute's dips without waiting out a
 * dead one). Each is retried once (see retry.ts), so the worst case for one
 * request is about twice its timeout.
 */
export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = {
  connectMs: 10_000,
  headersMs: 30_000,
  speedLimit: 1024,
  speedTimeMs: 30_000,
};

/**
 * COMMIT_HEADERS_FACTOR stretches the headers timeout for the PUT that
 * completes a blob upload: a registry verifies and moves the blob before it
 * answers (a storage-side copy on S3-backed registries), which takes longer
 * than answering a GET.
 */
export const COMMIT_HEADERS_FACTOR = 10;

/** TimeoutSetting names a setting as its flag, variable and config key spell it. */
export const TIMEOUT_SETTINGS = {
  connect: "registry-connect-timeout",
  headers: "registry-headers-timeout",
  speedLimit: "registry-speed-limit",
  speedTime: "registry-speed-time",
} as const;

/** TIMEOUT_CODES are the codes of errors raised when a timeout fires. */
export const TIMEOUT_CODES: ReadonlySet<RegistryErrorCode> = new Set([
  "TIMEOUT",
  "CONNECT_TIMEOUT",
  "HEADERS_TIMEOUT",
  "TRANSFER_TOO_SLOW",
]);

/** isTimeoutCode says whether an error code means a timeout fired. */
export function isTimeoutCode(code: RegistryErrorCode): boolean {
  return TIMEOUT_CODES.has(code);
}

/** seconds words a duration for an error message (`30 s`, `0.2 s`). */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/**
 * operationOf names what a request does in the words of the distribution
 * API (`blob download`, `manifest push`), so a timeout says which step of a
 * pull or push stalled.
 */
export function operationOf(method: string, url: URL): string {
  const m = method.toUpperCase();
  const path = url.pathname;
  if (/^\/v2\/?$/.test(path)) return "ping";
  if (path.includes("/blobs/uploads")) return "blob upload";
  if (path.includes("/blobs/")) return m === "HEAD" ? "blob check" : "blob download";
  if (path.includes("/manifests/")) {
    if (m === "PUT") return "manifest push";
    if (m === "DELETE") return "manifest delete";
    return m === "HEAD" ? "manifest check" : "manifest fetch";
  }
  if (path.endsWith("/tags/list")) return "tag list";
  return "request";
}

/** where names the registry a request is for, and the host it went to when that differs (blob storage). */
function where(req: Pick<HttpRequest, "url" | "registry">): string {
  const registry = req.registry ?? req.url.host;
  return registry === req.url.host ? `registry ${registry}` : `registry ${registry} (via ${req.url.host})`;
}

/**
 * timeoutError is the error for a timeout that fired: it names the
 * registry, the operation, the limit and the setting that changes it, with a
 * code per phase (CONNECT_TIMEOUT, HEADERS_TIMEOUT, TRANSFER_TOO_SLOW).
 */
export function timeoutError(
  kind: "connect" | "headers" | "speed",
  req: Pick<HttpRequest, "method" | "url" | "registry" | "operation">,
  limits: { ms: number; speedLimit?: number },
  cause?: unknown,
): RegistryError {
  const operation = req.operation ?? operationOf(req.method, req.url);
  const toward = /^(GET|HEAD)$/i.test(req.method) && operation !== "ping" ? "from" : "to";
  const op = `${operation} ${toward} ${where(req)}`;
  const opts = { method: req.method, url: req.url, cause };
  if (kind === "connect") {
    return new RegistryError(
      "CONNECT_TIMEOUT",
      `${op} timed out: no connection within ${seconds(limits.ms)} (${TIMEOUT_SETTINGS.connect})`,
      opts,
    );
  }
  if (kind === "headers") {
    return new RegistryError(
      "HEADERS_TIMEOUT",
      `${op} timed out: no response within ${seconds(limits.ms)} (${TIMEOUT_SETTINGS.headers})`,
      opts,
    );
  }
  return new RegistryError(
    "TRANSFER_TOO_SLOW",
    `${op} too slow: under ${limits.speedLimit ?? 0} bytes/s for ${seconds(limits.ms)} (${TIMEOUT_SETTINGS.speedLimit}, ${TIMEOUT_SETTINGS.speedTime})`,
    opts,
  );
}
