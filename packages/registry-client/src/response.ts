import type { Readable } from "node:stream";
import type { IncomingHttpHeaders } from "undici/types/header.js";
import { RegistryError } from "./errors.js";
import { discard, drain, type HttpResponse } from "./transport/send.js";

/** DEFAULT_JSON_LIMIT bounds JSON bodies (manifests, token replies): 4 MiB, as containerd limits manifests. */
export const DEFAULT_JSON_LIMIT = 4 * 1024 * 1024;

/**
 * RegistryResponse is a successful (expected-status) response. The body is a
 * stream: read it once, with one of the helpers or directly for blobs.
 */
export class RegistryResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable;
  /** url is where the response came from after redirects (not redacted: it may be needed to continue an upload). */
  readonly url: string;
  readonly method: string;

  constructor(res: HttpResponse, method: string) {
    this.status = res.status;
    this.headers = res.headers;
    this.body = res.body;
    this.url = res.url.toString();
    this.method = method;
  }

  /** header reads one header (the first when repeated). */
  header(name: string): string | undefined {
    const v = this.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  }

  /** bytes reads the whole body, failing with TOO_LARGE past `limit` bytes (declared or received). */
  async bytes(limit = DEFAULT_JSON_LIMIT): Promise<Buffer> {
    const tooLarge = () =>
      new RegistryError("TOO_LARGE", `response body is larger than the ${limit}-byte limit`, {
        method: this.method,
        url: this.url,
        status: this.status,
      });
    const declared = Number(this.header("content-length") ?? Number.NaN);
    if (declared > limit) {
      discard(this.body);
      throw tooLarge();
    }
    const fast = this.body as Readable & { arrayBuffer?: () => Promise<ArrayBuffer> };
    if (Number.isFinite(declared) && typeof fast.arrayBuffer === "function") {
      // A declared, acceptable length: let undici collect it (much cheaper than iterating chunks).
      let buf: Buffer;
      try {
        buf = Buffer.from(await fast.arrayBuffer());
      } catch (err) {
        if (err instanceof RegistryError) throw err;
        throw new RegistryError("CONNECTION_RESET", `response body was cut off: ${(err as Error).message}`, {
          method: this.method,
          url: this.url,
          status: this.status,
          cause: err,
        });
      }
      if (buf.length > limit) throw tooLarge();
      return buf;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of this.body) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        size += buf.length;
        if (size > limit) {
          discard(this.body);
          throw tooLarge();
        }
        chunks.push(buf);
      }
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      throw new RegistryError("CONNECTION_RESET", `response body was cut off: ${(err as Error).message}`, {
        method: this.method,
        url: this.url,
        status: this.status,
        cause: err,
      });
    }
    return Buffer.concat(chunks);
  }

  /** text reads the body as UTF-8 (bounded like bytes). */
  async text(limit = DEFAULT_JSON_LIMIT): Promise<string> {
    return (await this.bytes(limit)).toString("utf8");
  }

  /** json parses the body, failing with INVALID_RESPONSE when it is not JSON. */
  async json<T = unknown>(limit = DEFAULT_JSON_LIMIT): Promise<T> {
    const text = await this.text(limit);
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new RegistryError("INVALID_RESPONSE", "response body is not valid JSON", {
        method: this.method,
        url: this.url,
        status: this.status,
        cause: err,
      });
    }
  }

  /** dump discards the body so the connection can be reused. */
  async dump(): Promise<void> {
    await drain({ status: this.status, headers: this.headers, body: this.body, url: new URL(this.url) });
  }
}
