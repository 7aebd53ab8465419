import { redactText, redactUrl } from "./redact.js";

/**
 * DistributionErrorCode lists the error codes of the OCI distribution spec
 * (and the distribution registry's extras) that a registry puts in its
 * `{"errors":[{code,message,detail}]}` body.
 */
export type DistributionErrorCode =
  | "BLOB_UNKNOWN"
  | "BLOB_UPLOAD_INVALID"
  | "BLOB_UPLOAD_UNKNOWN"
  | "DIGEST_INVALID"
  | "MANIFEST_BLOB_UNKNOWN"
  | "MANIFEST_INVALID"
  | "MANIFEST_UNKNOWN"
  | "MANIFEST_UNVERIFIED"
  | "NAME_INVALID"
  | "NAME_UNKNOWN"
  | "SIZE_INVALID"
  | "TAG_INVALID"
  | "UNAUTHORIZED"
  | "DENIED"
  | "UNSUPPORTED"
  | "TOOMANYREQUESTS"
  | "RANGE_INVALID"
  | "PAGINATION_NUMBER_INVALID"
  | "UNKNOWN";

/**
 * TransportErrorCode names failures below HTTP, and HTTP outcomes that carry
 * no spec code, so callers (and retry) branch on `code`, never on text.
 */
export type TransportErrorCode =
  | "NOT_FOUND"
  | "UNEXPECTED_STATUS"
  | "SERVER_ERROR"
  | "CONNECTION_REFUSED"
  | "CONNECTION_RESET"
  | "HOST_NOT_FOUND"
  | "TIMEOUT"
  | "CONNECT_TIMEOUT"
  | "HEADERS_TIMEOUT"
  | "TRANSFER_TOO_SLOW"
  | "TLS_ERROR"
  | "HTTP_RESPONSE_TO_HTTPS"
  | "INSECURE_NOT_ALLOWED"
  | "NETWORK_ERROR"
  | "TOO_MANY_REDIRECTS"
  | "ABORTED"
  | "INVALID_RESPONSE"
  | "TOO_LARGE"
  | "BODY_NOT_REPLAYABLE"
  | "AUTH_FAILED"
  | "CREDENTIAL_HELPER"
  | "CONFIG_INVALID";

export type RegistryErrorCode = DistributionErrorCode | TransportErrorCode;

/** DistributionErrorDetail is one entry of a registry's `errors` array. */
export interface DistributionErrorDetail {
  code: string;
  message?: string;
  detail?: unknown;
}

export interface RegistryErrorOptions {
  status?: number;
  method?: string;
  url?: string | URL;
  errors?: DistributionErrorDetail[];
  temporary?: boolean;
  retryAfterMs?: number;
  cause?: unknown;
}

const SPEC_CODES = new Set<string>([
  "BLOB_UNKNOWN",
  "BLOB_UPLOAD_INVALID",
  "BLOB_UPLOAD_UNKNOWN",
  "DIGEST_INVALID",
  "MANIFEST_BLOB_UNKNOWN",
  "MANIFEST_INVALID",
  "MANIFEST_UNKNOWN",
  "MANIFEST_UNVERIFIED",
  "NAME_INVALID",
  "NAME_UNKNOWN",
  "SIZE_INVALID",
  "TAG_INVALID",
  "UNAUTHORIZED",
  "DENIED",
  "UNSUPPORTED",
  "TOOMANYREQUESTS",
  "RANGE_INVALID",
  "PAGINATION_NUMBER_INVALID",
  "UNKNOWN",
]);

/** TEMPORARY_STATUSES are HTTP statuses worth retrying (as go-containerregistry treats them). */
export const TEMPORARY_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);
const TEMPORARY_CODES = new Set<RegistryErrorCode>([
  "TOOMANYREQUESTS",
  "CONNECTION_RESET",
  "TIMEOUT",
  "CONNECT_TIMEOUT",
  "HEADERS_TIMEOUT",
  "TRANSFER_TOO_SLOW",
  "SERVER_ERROR",
]);

/**
 * RegistryError is the one error class of @tsbuild/registry-client. It carries
 * the spec `code` (or a transport code), the HTTP status, the method and a
 * redacted URL, and `temporary` which drives retries. Its message never
 * contains a credential: everything is passed through redact.ts.
 */
export class RegistryError extends Error {
  override readonly name = "RegistryError";
  readonly code: RegistryErrorCode;
  readonly status: number | undefined;
  readonly method: string | undefined;
  /** url is already redacted. */
  readonly url: string | undefined;
  readonly errors: DistributionErrorDetail[];
  readonly temporary: boolean;
  /** retryAfterMs is the server's Retry-After, when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(code: RegistryErrorCode, message: string, options: RegistryErrorOptions = {}) {
    const url = options.url === undefined ? undefined : redactUrl(options.url);
    const where = options.method && url ? `${options.method} ${url}` : (url ?? "");
    super(redactText(where ? `${message} (${where})` : message), { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.method = options.method;
    this.url = url;
    this.errors = options.errors ?? [];
    this.temporary =
      options.temporary ??
      (TEMPORARY_CODES.has(code) || (options.status !== undefined && TEMPORARY_STATUSES.has(options.status)));
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isRegistryError(err: unknown, code?: RegistryErrorCode): err is RegistryError {
  return err instanceof RegistryError && (code === undefined || err.code === code);
}

/** parseDistributionErrors reads a `{"errors":[...]}` body; anything else gives []. */
export function parseDistributionErrors(body: string): DistributionErrorDetail[] {
  try {
    const parsed: unknown = JSON.parse(body);
    if (!parsed || typeof parsed !== "object") return [];
    const errors = (parsed as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) return [];
    return errors
      .filter((e): e is Record<string, unknown> => !!e && typeof e === "object")
      .map((e) => ({
        code: typeof e.code === "string" ? e.code : "UNKNOWN",
        ...(typeof e.message === "string" ? { message: e.message } : {}),
        ...(e.detail !== undefined ? { detail: e.detail } : {}),
      }));
  } catch {
    return [];
  }
}

/** STATUS_TEXT words a bodiless error status the way docker prints the spec codes. */
const STATUS_TEXT: Partial<Record<RegistryErrorCode, string>> = {
  UNAUTHORIZED: "unauthorized: authentication required",
  DENIED: "denied: requested access to the resource is denied",
  NOT_FOUND: "not found",
  TOOMANYREQUESTS: "toomanyrequests: too many requests",
  UNSUPPORTED: "unsupported: the registry does not support this operation",
};

function statusCode(status: number): RegistryErrorCode {
  if (status === 401) return "UNAUTHORIZED";
  if (status === 403) return "DENIED";
  if (status === 404) return "NOT_FOUND";
  if (status === 405) return "UNSUPPORTED";
  if (status === 429) return "TOOMANYREQUESTS";
  if (status >= 500) return "SERVER_ERROR";
  return "UNEXPECTED_STATUS";
}

function loginHint(url: string | URL): string {
  let host = "";
  try {
    host = new URL(String(url)).host;
  } catch {
    // no host to suggest
  }
  return host && host !== "registry-1.docker.io" ? `tsbuild login ${host}` : "tsbuild login";
}

function statusHint(status: number, code: RegistryErrorCode, url: string | URL): string {
  if (code === "UNAUTHORIZED") return ` (try '${loginHint(url)}')`;
  if (code === "DENIED") return " (check the repository name and your permissions)";
  if (code === "TOOMANYREQUESTS") return " (rate limited by the registry; try again later)";
  if (status >= 500) return " (the registry failed; try again later)";
  return "";
}

function detailText(detail: unknown): string {
  if (detail === undefined || detail === null) return "";
  if (typeof detail === "string") return detail;
  try {
    const s = JSON.stringify(detail);
    return s.length > 300 ? `${s.slice(0, 300)}…` : s;
  } catch {
    return "";
  }
}

/**
 * registryErrorFromResponse builds the error for an unexpected HTTP status
 * from its (already read, size-limited) body. The first spec error code
 * becomes `code`; without one the status decides.
 */
export function registryErrorFromResponse(options: {
  status: number;
  method: string;
  url: string | URL;
  body: string;
  retryAfterMs?: number;
}): RegistryError {
  const errors = parseDistributionErrors(options.body);
  const first = errors[0];
  const code: RegistryErrorCode =
    first && SPEC_CODES.has(first.code) ? (first.code as DistributionErrorCode) : statusCode(options.status);
  let message: string;
  if (errors.length > 0) {
    message = errors
      .map((e) => {
        const text = `${e.code.toLowerCase()}: ${e.message ?? e.code}`;
        const d = detailText(e.detail);
        return d ? `${text}: ${d}` : text;
      })
      .join("; ");
  } else {
    const snippet = options.body.trim().slice(0, 200);
    message = `${STATUS_TEXT[code] ?? `unexpected HTTP status ${options.status}`}${snippet && !snippet.startsWith("<") ? `: ${snippet}` : ""}`;
  }
  message += statusHint(options.status, code, options.url);
  return new RegistryError(code, message, {
    status: options.status,
    method: options.method,
    url: options.url,
    errors,
    ...(options.retryAfterMs !== undefined ? { retryAfterMs: options.retryAfterMs } : {}),
    temporary: TEMPORARY_STATUSES.has(options.status) || errors.some((e) => e.code === "TOOMANYREQUESTS"),
  });
}
