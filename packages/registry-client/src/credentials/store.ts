import { normalizeRegistry } from "../registry.js";

/**
 * Credential is what a user proved to a registry with: a username and
 * password, an OAuth2 identity (refresh) token, or a ready registry token.
 */
export interface Credential {
  username?: string;
  password?: string;
  /** identityToken is an OAuth2 refresh token (config.json `identitytoken`, helper username `<token>`). */
  identityToken?: string;
  /** registryToken is a bearer token sent as is (config.json `registrytoken`). */
  registryToken?: string;
}

/**
 * CredentialStore finds, saves and forgets credentials by registry name (as
 * it appears in a reference: `docker.io`, `localhost:5000`). The client only
 * needs `get`; login and logout use the rest.
 */
export interface CredentialStore {
  get(registry: string): Promise<Credential | undefined>;
  store?(registry: string, credential: Credential): Promise<void>;
  erase?(registry: string): Promise<void>;
}

/** StaticCredentials is an in-memory CredentialStore for library callers and tests. */
export class StaticCredentials implements CredentialStore {
  readonly #byRegistry = new Map<string, Credential>();

  constructor(entries: Record<string, Credential> = {}) {
    for (const [registry, credential] of Object.entries(entries)) {
      this.#byRegistry.set(normalizeRegistry(registry), credential);
    }
  }

  async get(registry: string): Promise<Credential | undefined> {
    return this.#byRegistry.get(normalizeRegistry(registry));
  }

  async store(registry: string, credential: Credential): Promise<void> {
    this.#byRegistry.set(normalizeRegistry(registry), credential);
  }

  async erase(registry: string): Promise<void> {
    this.#byRegistry.delete(normalizeRegistry(registry));
  }
}
