import type { Credential, CredentialStore } from "../credentials/store.js";
import { registerSecret } from "../redact.js";
import type { Send } from "../transport/send.js";
import { type Challenge, parseChallenges, pickChallenge } from "./challenge.js";
import { fetchToken, type Token } from "./token.js";

/** AuthTarget is the registry endpoint a request goes to and what it needs access to. */
export interface AuthTarget {
  /** origin is the endpoint's `scheme://host[:port]`. */
  origin: string;
  /** registry is the name credentials are stored under (`docker.io`, `localhost:5000`). */
  registry: string;
  /** scopes are token scopes such as `repository:library/nginx:pull`. */
  scopes: string[];
  signal?: AbortSignal | undefined;
}

export interface AuthenticatorOptions {
  credentials?: CredentialStore | undefined;
  /** send fetches tokens (the transport stack without auth). */
  send: Send;
  userAgent: string;
  now?: () => number;
}

/** EXPIRY_MARGIN_MS renews a token a little before it runs out, so a request never races expiry. */
const EXPIRY_MARGIN_MS = 5_000;

/**
 * Authenticator answers registry challenges. It remembers each endpoint's
 * challenge (learned from the `/v2/` ping or a 401), looks credentials up
 * once per registry, and caches bearer tokens per (endpoint, credential,
 * scopes) until they expire, so a pull of twenty layers fetches one token.
 */
export class Authenticator {
  readonly #o: AuthenticatorOptions;
  readonly #challenges = new Map<string, Challenge | null>();
  readonly #credentials = new Map<string, Promise<Credential | undefined>>();
  readonly #tokens = new Map<string, Promise<Token>>();
  /** #ready holds settled tokens, so the common case (a valid cached token) takes no await. */
  readonly #ready = new Map<string, Token>();

  constructor(options: AuthenticatorOptions) {
    this.#o = options;
  }

  /** setChallenge records the challenge from a WWW-Authenticate header (none when absent). */
  setChallenge(origin: string, header: string | string[] | undefined): void {
    this.#challenges.set(origin, pickChallenge(parseChallenges(header)) ?? null);
  }

  /** adoptChallenge records an already parsed challenge (login reuses the client's ping). */
  adoptChallenge(origin: string, challenge: Challenge | null): void {
    this.#challenges.set(origin, challenge);
  }

  /** challenge is the known challenge: a Challenge, null for "no auth", undefined for "not pinged yet". */
  challenge(origin: string): Challenge | null | undefined {
    return this.#challenges.get(origin);
  }

  /** credential looks the registry's credential up once (helpers are processes; do not spawn one per request). */
  credential(registry: string): Promise<Credential | undefined> {
    let p = this.#credentials.get(registry);
    if (!p) {
      p = this.#o.credentials ? this.#o.credentials.get(registry) : Promise.resolve(undefined);
      p.catch(() => this.#credentials.delete(registry));
      this.#credentials.set(registry, p);
    }
    return p;
  }

  /**
   * authorization returns the Authorization header value for a request to
   * `target`, or undefined when the endpoint wants none. `refresh` drops the
   * cached token first (the registry just rejected it).
   */
  async authorization(target: AuthTarget, refresh = false): Promise<string | undefined> {
    const challenge = this.#challenges.get(target.origin);
    if (!challenge) return undefined;
    const credential = await this.credential(target.registry);
    if (challenge.scheme === "basic") {
      if (!credential?.username || !credential.password) return undefined;
      registerSecret(credential.password);
      return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;
    }
    if (credential?.registryToken) {
      registerSecret(credential.registryToken);
      return `Bearer ${credential.registryToken}`;
    }
    const scopes = [...new Set(target.scopes)].sort();
    const key = [
      target.origin,
      challenge.params.realm ?? "",
      challenge.params.service ?? "",
      credential?.username ?? "",
      scopes.join(" "),
    ].join("|");
    const now = this.#o.now?.() ?? Date.now();
    const ready = refresh ? undefined : this.#ready.get(key);
    if (ready && ready.expiresAt - EXPIRY_MARGIN_MS > now) return `Bearer ${ready.token}`;
    let pending = refresh ? undefined : this.#tokens.get(key);
    if (pending) {
      const cached = await pending.catch(() => undefined);
      if (!cached || cached.expiresAt - EXPIRY_MARGIN_MS <= now) pending = undefined;
    }
    if (!pending) {
      pending = fetchToken({
        send: this.#o.send,
        challenge,
        scopes,
        credential,
        registry: target.registry,
        userAgent: this.#o.userAgent,
        signal: target.signal,
        ...(this.#o.now ? { now: this.#o.now } : {}),
      });
      const mine = pending;
      this.#tokens.set(key, mine);
      this.#ready.delete(key);
      mine.then(
        (token) => {
          if (this.#tokens.get(key) === mine) this.#ready.set(key, token);
        },
        () => {
          if (this.#tokens.get(key) === mine) this.#tokens.delete(key);
        },
      );
    }
    return `Bearer ${(await pending).token}`;
  }
}
