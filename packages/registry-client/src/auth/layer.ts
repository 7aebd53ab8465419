import { drain, type HttpRequest, type HttpResponse, isReplayable, type Send } from "../transport/send.js";
import type { Authenticator, AuthTarget } from "./authenticator.js";

/**
 * withAuth adds the endpoint's Authorization to requests addressed to that
 * endpoint's origin (never to another host: an absolute upload Location on
 * blob storage authenticates by its URL). On a 401 it learns the new
 * challenge, drops the cached token and tries once more — a token expiring
 * mid-push — when the body can be replayed; otherwise the 401 goes back to
 * the caller.
 */
export function withAuth(next: Send, auth: Authenticator, target: AuthTarget): Send {
  return async (req: HttpRequest): Promise<HttpResponse> => {
    if (req.url.origin !== target.origin) return next(req);
    const first = await auth.authorization(target);
    const res = await next(withHeader(req, first));
    if (res.status !== 401) return res;
    const header = res.headers["www-authenticate"];
    const before = auth.challenge(target.origin);
    // Learn the challenge even when this body cannot be resent, so the caller's next try authenticates.
    if (header !== undefined) auth.setChallenge(target.origin, header);
    if (!isReplayable(req.body)) return res;
    // A registry naming the scope it wants (`error="insufficient_scope",scope="…"`) gets it asked for too, as containerd does.
    const wanted = (auth.challenge(target.origin)?.params.scope ?? "").split(" ").filter(Boolean);
    const missing = wanted.filter((s) => !target.scopes.includes(s));
    const retryTarget = missing.length > 0 ? { ...target, scopes: [...target.scopes, ...missing] } : target;
    const second = await auth.authorization(retryTarget, true);
    const challengeChanged = JSON.stringify(before) !== JSON.stringify(auth.challenge(target.origin));
    if (second === undefined || (second === first && !challengeChanged && !first?.startsWith("Bearer ")))
      return res;
    await drain(res);
    return next(withHeader(req, second));
  };
}

function withHeader(req: HttpRequest, authorization: string | undefined): HttpRequest {
  if (authorization === undefined) return req;
  return { ...req, headers: { ...req.headers, authorization } };
}
