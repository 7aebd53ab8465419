import type { LookupFunction } from "node:net";
import type { Dispatcher } from "undici";
import { Authenticator } from "./auth/authenticator.js";
import { withAuth } from "./auth/layer.js";
import { type Credential, type CredentialStore, StaticCredentials } from "./credentials/store.js";
import { isRegistryError, RegistryError, registryErrorFromResponse } from "./errors.js";
import { apiHost, hostOf, isDockerHub, normalizeRegistry } from "./registry.js";
import { RegistryResponse } from "./response.js";
import { InsecurePolicy } from "./transport/insecure.js";
import { withLogging } from "./transport/log.js";
import type { ProxySettings } from "./transport/proxy.js";
import { withRedirects } from "./transport/redirect.js";
import { parseRetryAfter, type RetryOptions, withRetry } from "./transport/retry.js";
import { type BodySource, drain, headerValue, readText, type Send } from "./transport/send.js";
import { DEFAULT_TIMEOUTS, type Timeouts } from "./transport/timeouts.js";
import { Dispatchers } from "./transport/tls.js";
import { undiciSend } from "./transport/undici.js";

/** DEFAULT_USER_AGENT identifies us to registries. */
export const DEFAULT_USER_AGENT = "tsbuild/0.1";

export interface RegistryClientOptions {
  /** credentials are looked up per registry (default: none, anonymous). */
  credentials?: CredentialStore;
  /** insecureRegistries may use plain HTTP or unverified TLS (`host:port`, `host`, or CIDR); loopback always may. */
  insecureRegistries?: string[];
  /** caFiles are extra PEM CA bundles trusted for every registry (`--registry-ca`). */
  caFiles?: string[];
  /** certsDir is docker's per-host certificate directory (default /etc/docker/certs.d). */
  certsDir?: string;
  /**
   * mirrors are tried, in order, for pulls before the registry itself
   * (`https://mirror.example`); a list applies to Docker Hub (docker's
   * `registry-mirrors`), a record maps any registry to its mirrors.
   */
  mirrors?: string[] | Record<string, string[]>;
  userAgent?: string;
  retry?: RetryOptions;
  /** maxRedirects bounds a redirect chain (default 10). */
  maxRedirects?: number;
  /** dispatcher replaces the per-host undici agents (TLS settings then come from it). */
  dispatcher?: Dispatcher;
  /** lookup resolves host names (tests, split-horizon DNS). */
  lookup?: LookupFunction;
  /** timeouts bound connecting, waiting for headers and the transfer rate (defaults: DEFAULT_TIMEOUTS). */
  timeouts?: Partial<Timeouts>;
  /** proxy: HTTP(S)_PROXY / NO_PROXY settings (createRegistryClient reads them from the environment). */
  proxy?: ProxySettings;
  /** debug receives one redacted line per HTTP exchange. */
  debug?: (line: string) => void;
}

/** Scope is the access a request needs on its repository. */
export type Scope = "pull" | "push" | "pull,push";

export interface RegistryRequest {
  /** registry is the reference's registry (`docker.io`, `localhost:5000`). */
  registry: string;
  /** repository is the repository path (`library/nginx`); empty for registry-wide calls. */
  repository: string;
  method: string;
  /** path is `/v2/...` (with any query) or an absolute URL (an upload Location). */
  path: string;
  headers?: Record<string, string>;
  /** body: Buffers, strings and factories are replayable; a bare stream is sent at most once. */
  body?: BodySource;
  /** scope defaults to `pull` for GET/HEAD and `pull,push` otherwise. */
  scope?: Scope;
  /** extraScopes are added to the token request (`repository:other/repo:pull` for a cross-repo mount). */
  extraScopes?: string[];
  /** expectStatus lists the statuses that are not errors (default: any 2xx). */
  expectStatus?: number[];
  /** idempotent overrides the method's semantics for retries (e.g. true for a POST that starts an upload). */
  idempotent?: boolean;
  /** headersTimeoutMs replaces the client's headers timeout for this request (an upload's closing PUT). */
  headersTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Endpoint is where a registry's API was found to answer, and how it authenticates. */
export interface Endpoint {
  /** registry is the name its credentials are stored under. */
  registry: string;
  /** origin is `https://host[:port]` or `http://host[:port]`. */
  origin: string;
  insecure: boolean;
  mirror: boolean;
  /** authScheme is what `/v2/` asked for: `bearer`, `basic`, or `none`. */
  authScheme: string;
}

interface EndpointSpec {
  registry: string;
  host: string;
  scheme: "https" | "http" | undefined;
  mirror: boolean;
}

/**
 * RegistryClient speaks the distribution API to any number of registries.
 * One `request()` resolves the registry's endpoint (HTTPS, or HTTP for
 * loopback and insecure registries, found by pinging `/v2/` once), answers
 * its auth challenge, follows redirects, retries temporary failures, tries
 * Docker Hub mirrors first for pulls, and turns unexpected statuses into
 * RegistryErrors. Each concern is its own transport layer (see transport/
 * and auth/); pull and push code just says what it wants.
 */
export class RegistryClient {
  readonly userAgent: string;
  /** timeouts are the limits in effect (the options' over DEFAULT_TIMEOUTS). */
  readonly timeouts: Readonly<Timeouts>;
  readonly #options: RegistryClientOptions;
  readonly #insecure: InsecurePolicy;
  readonly #dispatchers: Dispatchers;
  readonly #base: Send;
  readonly #auth: Authenticator;
  readonly #endpoints = new Map<string, Promise<Endpoint>>();
  readonly #failedMirrors = new Set<string>();

  constructor(options: RegistryClientOptions = {}) {
    this.#options = options;
    this.userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    const timeouts = { ...DEFAULT_TIMEOUTS };
    for (const [k, v] of Object.entries(options.timeouts ?? {}) as [keyof Timeouts, number | undefined][])
      if (v !== undefined) timeouts[k] = v;
    this.timeouts = timeouts;
    this.#insecure = new InsecurePolicy(options.insecureRegistries ?? []);
    this.#dispatchers = new Dispatchers({
      ...(options.caFiles ? { caFiles: options.caFiles } : {}),
      ...(options.certsDir ? { certsDir: options.certsDir } : {}),
      ...(options.lookup ? { lookup: options.lookup } : {}),
      ...(options.proxy ? { proxy: options.proxy } : {}),
      connectTimeoutMs: timeouts.connectMs,
      headersTimeoutMs: timeouts.headersMs,
    });
    const dispatcher = options.dispatcher;
    const core = undiciSend(
      dispatcher
        ? () => dispatcher
        : (url) => this.#dispatchers.forUrl(url, this.#insecure.isInsecure(url.host)),
      timeouts,
    );
    this.#base = withRedirects(withRetry(withLogging(core, options.debug), options.retry), {
      ...(options.maxRedirects !== undefined ? { maxRedirects: options.maxRedirects } : {}),
    });
    this.#auth = new Authenticator({
      credentials: options.credentials,
      send: this.#base,
      userAgent: this.userAgent,
    });
  }

  /** isInsecure says whether a registry host may use HTTP or unverified TLS. */
  isInsecure(registry: string): boolean {
    return this.#insecure.isInsecure(apiHost(registry));
  }

  /**
   * request sends one distribution API request and resolves with the
   * response when its status is expected; otherwise it rejects with a
   * RegistryError carrying the spec code, status, method and redacted URL.
   */
  async request(req: RegistryRequest): Promise<RegistryResponse> {
    const method = req.method.toUpperCase();
    const absolute = /^https?:\/\//i.test(req.path);
    const pull = method === "GET" || method === "HEAD";
    const mirrors =
      pull && !absolute && (req.scope ?? "pull") === "pull"
        ? this.#mirrorsFor(req.registry).filter((m) => !this.#failedMirrors.has(m))
        : [];
    for (const mirror of mirrors) {
      try {
        const res = await this.#send(this.#mirrorSpec(mirror), req);
        if (res.status < 400) return res;
        await res.dump();
        this.#options.debug?.(`mirror ${hostOf(mirror)} answered ${res.status}; trying the next source`);
      } catch (err) {
        if (err instanceof RegistryError && err.code === "ABORTED") throw err;
        if (err instanceof RegistryError && err.status === undefined) this.#failedMirrors.add(mirror);
        this.#options.debug?.(
          `mirror ${hostOf(mirror)} failed: ${(err as Error).message}; trying the next source`,
        );
      }
    }
    return this.#send(this.#registrySpec(req.registry), req);
  }

  /** ping resolves (and caches) a registry's endpoint: scheme, origin and auth scheme. */
  ping(registry: string, signal?: AbortSignal): Promise<Endpoint> {
    return this.#endpoint(this.#registrySpec(registry), signal);
  }

  /**
   * verifyCredentials proves a credential against a registry the way
   * `docker login` does: answer the `/v2/` challenge with it (a token from
   * the realm for Bearer, the header itself for Basic) and expect `/v2/` to
   * accept the result. A registry that needs no auth accepts anything. It
   * throws UNAUTHORIZED for wrong credentials; nothing is cached.
   */
  async verifyCredentials(registry: string, credential: Credential, signal?: AbortSignal): Promise<Endpoint> {
    const ep = await this.ping(registry, signal);
    if (ep.authScheme === "none") return ep;
    const auth = new Authenticator({
      credentials: new StaticCredentials({ [ep.registry]: credential }),
      send: this.#base,
      userAgent: this.userAgent,
    });
    auth.adoptChallenge(ep.origin, this.#auth.challenge(ep.origin) ?? null);
    const send = withAuth(this.#base, auth, { origin: ep.origin, registry: ep.registry, scopes: [], signal });
    const url = new URL("/v2/", ep.origin);
    const res = await send({
      method: "GET",
      url,
      headers: { "user-agent": this.userAgent },
      signal,
      registry: ep.registry,
    });
    const body = await readText(res.body);
    if (res.status === 200) return ep;
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError("UNAUTHORIZED", `login to ${registry} failed: incorrect username or password`, {
        status: res.status,
        method: "GET",
        url,
      });
    }
    throw registryErrorFromResponse({ status: res.status, method: "GET", url, body });
  }

  /** close releases pooled connections. */
  async close(): Promise<void> {
    await this.#dispatchers.close();
  }

  #mirrorsFor(registry: string): string[] {
    const m = this.#options.mirrors;
    if (!m) return [];
    if (Array.isArray(m)) return isDockerHub(registry) ? m : [];
    const name = normalizeRegistry(registry);
    for (const [key, list] of Object.entries(m)) if (normalizeRegistry(key) === name) return list;
    return [];
  }

  #registrySpec(registry: string): EndpointSpec {
    return {
      registry: normalizeRegistry(registry),
      host: apiHost(registry),
      scheme: undefined,
      mirror: false,
    };
  }

  #mirrorSpec(mirror: string): EndpointSpec {
    const m = /^(https?):\/\//i.exec(mirror.trim());
    const host = hostOf(mirror);
    return {
      registry: host,
      host,
      scheme: m ? (m[1]!.toLowerCase() as "http" | "https") : undefined,
      mirror: true,
    };
  }

  async #send(spec: EndpointSpec, req: RegistryRequest): Promise<RegistryResponse> {
    const method = req.method.toUpperCase();
    const ep = await this.#endpoint(spec, req.signal);
    let url: URL;
    try {
      url = new URL(req.path, ep.origin);
    } catch (err) {
      throw new RegistryError("INVALID_RESPONSE", `invalid request URL ${req.path}`, { cause: err });
    }
    const scope = req.scope ?? (method === "GET" || method === "HEAD" ? "pull" : "pull,push");
    const scopes = req.repository ? [`repository:${req.repository}:${scope}`] : [];
    scopes.push(...(req.extraScopes ?? []));
    const send = withAuth(this.#base, this.#auth, {
      origin: ep.origin,
      registry: ep.registry,
      scopes,
      signal: req.signal,
    });
    const headers: Record<string, string> = { "user-agent": this.userAgent };
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
    const res = await send({
      method,
      url,
      headers,
      body: req.body,
      signal: req.signal,
      idempotent: req.idempotent,
      registry: ep.registry,
      headersTimeoutMs: req.headersTimeoutMs,
    });
    const ok = req.expectStatus
      ? req.expectStatus.includes(res.status)
      : res.status >= 200 && res.status < 300;
    if (ok) return new RegistryResponse(res, method);
    const body = method === "HEAD" ? "" : await readText(res.body);
    if (method === "HEAD") await drain(res);
    const retryAfterMs = parseRetryAfter(headerValue(res.headers, "retry-after"));
    const err = registryErrorFromResponse({
      status: res.status,
      method,
      url: res.url,
      body,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
    throw err;
  }

  #endpoint(spec: EndpointSpec, signal: AbortSignal | undefined): Promise<Endpoint> {
    const key = `${spec.scheme ?? "auto"}://${spec.host}|${spec.registry}`;
    let p = this.#endpoints.get(key);
    if (!p) {
      p = this.#resolve(spec, signal);
      this.#endpoints.set(key, p);
      p.catch(() => {
        if (this.#endpoints.get(key) === p) this.#endpoints.delete(key);
      });
    }
    return p;
  }

  /**
   * #resolve pings `/v2/` over HTTPS and, for insecure registries (loopback
   * included), falls back to plain HTTP when HTTPS fails at the transport
   * level, as docker does. The 401 challenge it gets is remembered.
   */
  async #resolve(spec: EndpointSpec, signal: AbortSignal | undefined): Promise<Endpoint> {
    const insecure = this.#insecure.isInsecure(spec.host);
    const schemes: ("https" | "http")[] = spec.scheme
      ? [spec.scheme]
      : insecure
        ? ["https", "http"]
        : ["https"];
    let firstError: unknown;
    for (const scheme of schemes) {
      const origin = `${scheme}://${spec.host}`;
      try {
        const res = await this.#base({
          method: "GET",
          url: new URL("/v2/", origin),
          headers: { "user-agent": this.userAgent },
          signal,
          registry: spec.registry,
        });
        await drain(res);
        const header = res.status === 401 ? res.headers["www-authenticate"] : undefined;
        this.#auth.setChallenge(origin, header);
        const challenge = this.#auth.challenge(origin);
        return {
          registry: spec.registry,
          origin,
          insecure,
          mirror: spec.mirror,
          authScheme: challenge ? challenge.scheme : "none",
        };
      } catch (err) {
        if (!(err instanceof RegistryError) || err.code === "ABORTED" || err.status !== undefined) throw err;
        // A server that takes a plain-HTTP connection but never answers says more than the TLS handshake it let time out.
        if (firstError === undefined || (isRegistryError(firstError, "CONNECT_TIMEOUT") && scheme === "http"))
          firstError = err;
      }
    }
    throw firstError;
  }
}
