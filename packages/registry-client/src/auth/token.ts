import type { Credential } from "../credentials/store.js";
import { RegistryError, registryErrorFromResponse } from "../errors.js";
import { registerSecret } from "../redact.js";
import { type HttpResponse, readAtMost, type Send } from "../transport/send.js";
import type { Challenge } from "./challenge.js";

/** Token is a bearer token from a registry's token service. */
export interface Token {
  token: string;
  /** expiresAt is epoch milliseconds. */
  expiresAt: number;
  refreshToken?: string;
}

/** DEFAULT_EXPIRES_IN_S is the token spec's lifetime when the server gives none. */
export const DEFAULT_EXPIRES_IN_S = 60;

/** TOKEN_RESPONSE_LIMIT bounds a token service's reply (1 MiB: a JWT is a few KiB). */
export const TOKEN_RESPONSE_LIMIT = 1024 * 1024;

export interface FetchTokenOptions {
  send: Send;
  challenge: Challenge;
  scopes: string[];
  credential: Credential | undefined;
  /** registry names the registry in error messages. */
  registry: string;
  userAgent: string;
  clientId?: string;
  signal?: AbortSignal | undefined;
  now?: () => number;
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

/**
 * fetchToken asks the challenge's realm for a token covering `scopes`
 * (docker's token flow): OAuth2 POST with the refresh token when we hold an
 * identity token, else GET with Basic credentials when known, else an
 * anonymous GET. It accepts `token` or `access_token` and defaults
 * `expires_in` to 60 s.
 */
export async function fetchToken(o: FetchTokenOptions): Promise<Token> {
  const realm = o.challenge.params.realm;
  if (!realm) {
    throw new RegistryError("AUTH_FAILED", `registry ${o.registry} sent a Bearer challenge without a realm`);
  }
  let realmUrl: URL;
  try {
    realmUrl = new URL(realm);
  } catch (err) {
    throw new RegistryError("AUTH_FAILED", `registry ${o.registry} sent an invalid token realm`, {
      cause: err,
    });
  }
  const service = o.challenge.params.service;
  const c = o.credential;
  registerSecret(c?.password);
  registerSecret(c?.identityToken);
  const headers: Record<string, string> = { "user-agent": o.userAgent, accept: "application/json" };
  let res: HttpResponse;
  let method: string;
  if (c?.identityToken) {
    method = "POST";
    const form = new URLSearchParams();
    form.set("grant_type", "refresh_token");
    form.set("refresh_token", c.identityToken);
    form.set("client_id", o.clientId ?? "tsbuild");
    if (service) form.set("service", service);
    if (o.scopes.length > 0) form.set("scope", o.scopes.join(" "));
    res = await o.send({
      method,
      url: realmUrl,
      headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
      signal: o.signal,
      idempotent: true,
      registry: o.registry,
      operation: "token request",
    });
  } else {
    method = "GET";
    const url = new URL(realmUrl);
    if (service) url.searchParams.set("service", service);
    for (const scope of o.scopes) url.searchParams.append("scope", scope);
    if (c?.username && c.password) headers.authorization = basic(c.username, c.password);
    res = await o.send({
      method,
      url,
      headers,
      signal: o.signal,
      registry: o.registry,
      operation: "token request",
    });
  }
  const { text, over } = await readAtMost(res.body, TOKEN_RESPONSE_LIMIT);
  if (res.status === 401 || res.status === 403) {
    const who = c?.username ? `as ${c.username}` : "anonymously";
    const why = c?.username || c?.identityToken ? "incorrect username or password" : "access denied";
    throw new RegistryError("UNAUTHORIZED", `authentication ${who} to ${o.registry} failed: ${why}`, {
      status: res.status,
      method,
      url: realmUrl,
      errors: registryErrorFromResponse({ status: res.status, method, url: realmUrl, body: text }).errors,
    });
  }
  if (res.status < 200 || res.status > 299) {
    const inner = registryErrorFromResponse({ status: res.status, method, url: realmUrl, body: text });
    throw new RegistryError("AUTH_FAILED", `token service for ${o.registry} failed with HTTP ${res.status}`, {
      status: res.status,
      method,
      url: realmUrl,
      errors: inner.errors,
      temporary: inner.temporary,
    });
  }
  if (over) {
    throw new RegistryError(
      "TOO_LARGE",
      `token response from ${o.registry}'s token service is over the ${TOKEN_RESPONSE_LIMIT}-byte limit`,
      { status: res.status, method, url: realmUrl },
    );
  }
  let body: {
    token?: unknown;
    access_token?: unknown;
    expires_in?: unknown;
    issued_at?: unknown;
    refresh_token?: unknown;
  };
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new RegistryError("AUTH_FAILED", `token service for ${o.registry} returned invalid JSON`, {
      method,
      url: realmUrl,
      cause: err,
    });
  }
  const token =
    typeof body.access_token === "string" && body.access_token
      ? body.access_token
      : typeof body.token === "string"
        ? body.token
        : "";
  if (!token) {
    throw new RegistryError("AUTH_FAILED", `token service for ${o.registry} returned no token`, {
      method,
      url: realmUrl,
    });
  }
  registerSecret(token);
  const expiresIn =
    typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : DEFAULT_EXPIRES_IN_S;
  const now = o.now?.() ?? Date.now();
  const issued = typeof body.issued_at === "string" ? Date.parse(body.issued_at) : Number.NaN;
  // Trust issued_at only when the clocks roughly agree; a skewed server clock must not expire every token at once.
  const start = !Number.isNaN(issued) && Math.abs(issued - now) < 5 * 60_000 ? issued : now;
  const out: Token = { token, expiresAt: start + expiresIn * 1000 };
  if (typeof body.refresh_token === "string" && body.refresh_token) {
    registerSecret(body.refresh_token);
    out.refreshToken = body.refresh_token;
  }
  return out;
}
