import { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { RegistryError, type RegistryErrorCode } from "../errors.js";
import { watchRequestBody, watchResponseBody } from "./low-speed.js";
import type { HttpRequest, HttpResponse, Send } from "./send.js";
import { DEFAULT_TIMEOUTS, type Timeouts, timeoutError } from "./timeouts.js";

/** DispatcherFor picks the undici dispatcher (connection pool + TLS settings) for a URL. */
export type DispatcherFor = (url: URL) => Dispatcher;

/**
 * undiciSend is the innermost layer: one HTTP exchange over undici, with
 * transport failures turned into RegistryErrors whose code says what went
 * wrong and whose message says what to do about it. It applies `timeouts`:
 * undici's headers timeout per request (the connect timeout lives in the
 * dispatcher, see tls.ts), and a speed floor on stream bodies both ways
 * (low-speed.ts) instead of undici's idle body timeout, which a server
 * trickling a byte now and then never trips.
 */
export function undiciSend(dispatcherFor: DispatcherFor, timeouts: Timeouts = DEFAULT_TIMEOUTS): Send {
  return async (req: HttpRequest): Promise<HttpResponse> => {
    const floor = { bytesPerSecond: timeouts.speedLimit, windowMs: timeouts.speedTimeMs };
    const tooSlow = () =>
      timeoutError("speed", req, { ms: floor.windowMs, speedLimit: floor.bytesPerSecond });
    let slowUpload: Error | undefined;
    const source = typeof req.body === "function" ? req.body() : req.body;
    let body =
      source === undefined ||
      typeof source === "string" ||
      source instanceof Uint8Array ||
      source instanceof Readable
        ? source
        : Readable.from(source, { objectMode: false });
    if (body instanceof Readable) {
      body = watchRequestBody(body, floor, () => {
        slowUpload = tooSlow();
        return slowUpload;
      });
    }
    const headersMs = req.headersTimeoutMs ?? timeouts.headersMs;
    try {
      // The dispatcher's own request (not undici's top-level one, which only adds URL parsing and a
      // global dispatcher): the CLI's bundle carries undici's dispatchers and nothing else.
      const res = await dispatcherFor(req.url).request({
        origin: req.url.origin,
        path: `${req.url.pathname}${req.url.search}`,
        method: req.method as Dispatcher.HttpMethod,
        headers: req.headers,
        body: body ?? null,
        signal: req.signal,
        headersTimeout: headersMs,
        // The speed floor watches bodies; a floor turned off (speed time 0) means no limit at all.
        bodyTimeout: 0,
      });
      watchResponseBody(res.body, floor, tooSlow);
      return { status: res.statusCode, headers: res.headers, body: res.body, url: req.url };
    } catch (err) {
      if (slowUpload) throw slowUpload;
      throw transportError(err, req, { connectMs: timeouts.connectMs, headersMs });
    }
  };
}

const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REVOKED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "HOSTNAME_MISMATCH",
]);

function errCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  if (e && typeof e.code === "string") return e.code;
  if (e?.cause && typeof e.cause.code === "string") return e.cause.code;
  return "";
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** transportError classifies a failure below HTTP (connect, TLS, reset, timeout, abort). */
export function transportError(
  err: unknown,
  req: Pick<HttpRequest, "method" | "url" | "registry" | "operation">,
  limits: { connectMs: number; headersMs: number } = DEFAULT_TIMEOUTS,
): RegistryError {
  if (err instanceof RegistryError) return err;
  const { method, url } = req;
  const code = errCode(err);
  const msg = errMessage(err);
  const host = url.host;
  const opts = { method, url, cause: err };
  const fail = (c: RegistryErrorCode, text: string) => new RegistryError(c, text, opts);
  const name = (err as { name?: string } | null)?.name;
  if (name === "AbortError" || code === "UND_ERR_ABORTED" || code === "ABORT_ERR") {
    return fail("ABORTED", "request aborted");
  }
  if (code === "ECONNREFUSED")
    return fail("CONNECTION_REFUSED", `connection refused by ${host}; is the registry running?`);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NODATA") {
    return fail("HOST_NOT_FOUND", `cannot resolve registry host ${url.hostname}`);
  }
  if (code === "UND_ERR_CONNECT_TIMEOUT") return timeoutError("connect", req, { ms: limits.connectMs }, err);
  if (code === "UND_ERR_HEADERS_TIMEOUT") return timeoutError("headers", req, { ms: limits.headersMs }, err);
  if (code === "UND_ERR_BODY_TIMEOUT" || code === "ETIMEDOUT") {
    return fail("TIMEOUT", `timed out talking to ${host}`);
  }
  if (
    code === "ERR_SSL_WRONG_VERSION_NUMBER" ||
    code === "ERR_SSL_PACKET_LENGTH_TOO_LONG" ||
    /wrong version number|packet length too long|http request/i.test(msg)
  ) {
    return fail(
      "HTTP_RESPONSE_TO_HTTPS",
      `server gave HTTP response to HTTPS client; if ${host} is a plain-HTTP registry, use --insecure-registry ${host}`,
    );
  }
  if (TLS_CODES.has(code) || code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL") || code === "EPROTO") {
    return fail(
      "TLS_ERROR",
      `TLS handshake with ${host} failed: ${msg}; add its CA with --registry-ca FILE or /etc/docker/certs.d/${host}/ca.crt, or use --insecure-registry ${host}`,
    );
  }
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "EPIPE" || code === "UND_ERR_CLOSED") {
    return fail("CONNECTION_RESET", `connection to ${host} was closed unexpectedly (${code})`);
  }
  return fail("NETWORK_ERROR", `request to ${host} failed: ${msg}${code ? ` (${code})` : ""}`);
}
