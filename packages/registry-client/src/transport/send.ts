import type { Readable } from "node:stream";
import type { IncomingHttpHeaders } from "undici/types/header.js";

/**
 * BodySource is what a request may send. Buffers, strings and factories
 * (`() => fs.createReadStream(f)`) are replayable, so retry, redirect and
 * auth layers may send them again; a bare stream or async iterable is sent
 * once and a layer that would need to resend it fails instead.
 */
export type BodySource =
  | Buffer
  | Uint8Array
  | string
  | Readable
  | AsyncIterable<Uint8Array>
  | (() => Readable | AsyncIterable<Uint8Array>);

/** HttpRequest is one hop as the transport layers see it. */
export interface HttpRequest {
  method: string;
  url: URL;
  /** headers use lowercase names. */
  headers: Record<string, string>;
  body?: BodySource | undefined;
  signal?: AbortSignal | undefined;
  /** idempotent lets retry resend after a failure that may have reached the server. */
  idempotent?: boolean | undefined;
  /** registry names the registry this request is for, in error messages (the URL may be blob storage). */
  registry?: string | undefined;
  /** operation names what the request does, in error messages, where the URL does not say (`token request`). */
  operation?: string | undefined;
  /** headersTimeoutMs replaces the client's headers timeout for this request (an upload's closing PUT). */
  headersTimeoutMs?: number | undefined;
}

/** HttpResponse is a response whose body has not been read yet. */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
  /** url is where the response came from (after redirects). */
  url: URL;
}

/** Send performs one request; transport layers wrap a Send and return a Send. */
export type Send = (req: HttpRequest) => Promise<HttpResponse>;

/** isReplayable says whether a body can be sent more than once. */
export function isReplayable(body: BodySource | undefined): boolean {
  return (
    body === undefined || typeof body === "string" || body instanceof Uint8Array || typeof body === "function"
  );
}

/** IDEMPOTENT_METHODS may be resent after a failure that reached the server (RFC 9110 §9.2.2). */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

/** isIdempotent applies the request's override, else the method's semantics. */
export function isIdempotent(req: HttpRequest): boolean {
  return req.idempotent ?? IDEMPOTENT_METHODS.has(req.method.toUpperCase());
}

/** headerValue reads one header as a string (the first when repeated). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * discard drops a body we will not read. undici reports an unfinished body as
 * aborted; that is what we asked for, so the error is swallowed here instead
 * of surfacing as an unhandled 'error' event.
 */
export function discard(body: Readable): void {
  body.on("error", () => {});
  body.destroy();
}

/** drain discards a response body so its connection can be reused. */
export async function drain(res: HttpResponse): Promise<void> {
  try {
    const b = res.body as Readable & { dump?: (o?: { limit?: number }) => Promise<void> };
    if (typeof b.dump === "function") await b.dump({ limit: 256 * 1024 });
    else discard(b);
  } catch {
    // The connection is dropped instead; nothing to report.
  }
}

/** readText reads up to `limit` bytes of a body as UTF-8 (the rest is discarded). */
export async function readText(body: Readable, limit = 64 * 1024): Promise<string> {
  return (await readAtMost(body, limit)).text;
}

/**
 * readAtMost reads up to `limit` bytes of a body as UTF-8 and stops there
 * (the rest is never received); `over` says whether there was more. Read
 * errors end the text early: a truncated error body still says something.
 */
export async function readAtMost(body: Readable, limit: number): Promise<{ text: string; over: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      if (size < limit) chunks.push(buf.subarray(0, limit - size));
      size += buf.length;
      if (size > limit) break;
    }
  } catch {
    // keep what arrived
  } finally {
    discard(body);
  }
  return { text: Buffer.concat(chunks).toString("utf8"), over: size > limit };
}
