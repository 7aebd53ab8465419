import { RegistryError } from "../errors.js";
import { drain, type HttpRequest, type HttpResponse, headerValue, type Send } from "./send.js";

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** CREDENTIAL_HEADERS are never sent to an origin other than the one the caller addressed. */
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie"];

export interface RedirectOptions {
  /** maxRedirects bounds a redirect chain (default 10). */
  maxRedirects?: number;
}

/**
 * withRedirects follows redirects for GET and HEAD (registries send blob
 * downloads to storage such as S3 this way). A hop to another origin gets no
 * Authorization or Cookie header: blob storage authenticates by the signed
 * URL, and our registry token must not leak to it. Other methods get the 3xx
 * response back unchanged.
 */
export function withRedirects(next: Send, options: RedirectOptions = {}): Send {
  const max = options.maxRedirects ?? 10;
  return async (req: HttpRequest): Promise<HttpResponse> => {
    const method = req.method.toUpperCase();
    if (method !== "GET" && method !== "HEAD") return next(req);
    const origin = req.url.origin;
    let url = req.url;
    for (let hop = 0; ; hop++) {
      const headers = { ...req.headers };
      if (url.origin !== origin) for (const h of CREDENTIAL_HEADERS) delete headers[h];
      const res = await next({ ...req, url, headers });
      const location = headerValue(res.headers, "location");
      if (!REDIRECT_STATUSES.has(res.status) || !location) return res;
      await drain(res);
      if (hop >= max) {
        throw new RegistryError("TOO_MANY_REDIRECTS", `stopped after ${max} redirects`, {
          method,
          url: req.url,
          status: res.status,
        });
      }
      let target: URL;
      try {
        target = new URL(location, url);
      } catch (err) {
        throw new RegistryError("INVALID_RESPONSE", "redirect to an invalid Location", {
          method,
          url,
          status: res.status,
          cause: err,
        });
      }
      if (target.protocol !== "http:" && target.protocol !== "https:") {
        throw new RegistryError("INVALID_RESPONSE", `redirect to unsupported scheme ${target.protocol}`, {
          method,
          url,
          status: res.status,
        });
      }
      url = target;
    }
  };
}
