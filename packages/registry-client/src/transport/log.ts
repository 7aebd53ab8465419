import { redactUrl } from "../redact.js";
import type { HttpRequest, HttpResponse, Send } from "./send.js";

/**
 * withLogging reports every hop (method, redacted URL, status) to a debug
 * sink. Headers are not logged at all, so no credential can slip through.
 */
export function withLogging(next: Send, log: ((line: string) => void) | undefined): Send {
  if (!log) return next;
  return async (req: HttpRequest): Promise<HttpResponse> => {
    try {
      const res = await next(req);
      log(`${req.method} ${redactUrl(req.url)} -> ${res.status}`);
      return res;
    } catch (err) {
      log(`${req.method} ${redactUrl(req.url)} -> ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
  };
}
