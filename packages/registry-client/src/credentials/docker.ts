import { join } from "node:path";
import { credentialKey } from "../registry.js";
import {
  authKeys,
  type DockerConfig,
  decodeAuth,
  dockerConfigDir,
  encodeAuth,
  findAuthEntry,
  helperFor,
  readDockerConfig,
  writeDockerConfig,
} from "./config-file.js";
import { helperErase, helperGet, helperStore } from "./helper.js";
import type { Credential, CredentialStore } from "./store.js";

export interface DockerCredentialStoreOptions {
  /** configDir holds config.json (default `$DOCKER_CONFIG`, else `~/.docker`). */
  configDir?: string;
  /** env is passed to credential helpers (PATH finds them) and resolves the config dir. */
  env?: NodeJS.ProcessEnv;
}

/** StoreResult says where a credential ended up, so login can warn about plaintext. */
export interface StoreResult {
  /** helper is the credential helper that holds the secret, when one is configured. */
  helper?: string;
  /** configPath is the config.json written. */
  configPath: string;
  /** plaintext is true when the secret sits base64-encoded in config.json. */
  plaintext: boolean;
}

/**
 * DockerCredentialStore reads and writes credentials exactly where docker
 * does: `config.json` `auths` (base64 `user:password`, `identitytoken`), or
 * the credential helper named by `credHelpers[<key>]` or `credsStore`. Keys
 * are docker's: `https://index.docker.io/v1/` for Docker Hub, else host[:port].
 */
export class DockerCredentialStore implements CredentialStore {
  readonly configDir: string;
  readonly #env: NodeJS.ProcessEnv;

  constructor(options: DockerCredentialStoreOptions = {}) {
    this.#env = options.env ?? process.env;
    this.configDir = options.configDir ?? dockerConfigDir(this.#env);
  }

  /** configPath is the config.json this store uses. */
  get configPath(): string {
    return join(this.configDir, "config.json");
  }

  readConfig(): Promise<DockerConfig> {
    return readDockerConfig(this.configDir);
  }

  /** helper names the credential helper that would hold a registry's credentials. */
  async helper(registry: string): Promise<string | undefined> {
    return helperFor(await this.readConfig(), credentialKey(registry));
  }

  async get(registry: string): Promise<Credential | undefined> {
    const config = await this.readConfig();
    const key = credentialKey(registry);
    const helper = helperFor(config, key);
    if (helper) {
      const fromHelper = await helperGet(helper, key, { env: this.#env });
      if (fromHelper) return fromHelper;
    }
    const found = findAuthEntry(config, registry);
    return found ? decodeAuth(found.entry, `${this.configPath}: auths["${found.key}"]`) : undefined;
  }

  async store(registry: string, credential: Credential): Promise<void> {
    await this.save(registry, credential);
  }

  /** save stores a credential and says where it went. */
  async save(registry: string, credential: Credential): Promise<StoreResult> {
    const config = await this.readConfig();
    const key = credentialKey(registry);
    const helper = helperFor(config, key);
    const auths = { ...(config.auths ?? {}) };
    for (const k of authKeys(registry)) if (k !== key) delete auths[k];
    if (helper) {
      await helperStore(helper, key, credential, { env: this.#env });
      // docker keeps an empty entry so `docker info` and friends list the registry.
      auths[key] = {};
    } else {
      auths[key] = encodeAuth(credential);
    }
    const configPath = await writeDockerConfig(this.configDir, { ...config, auths });
    return { ...(helper ? { helper } : {}), configPath, plaintext: !helper };
  }

  async erase(registry: string): Promise<void> {
    await this.remove(registry);
  }

  /** remove forgets a registry's credentials everywhere docker may keep them; false when there were none. */
  async remove(registry: string): Promise<boolean> {
    const config = await this.readConfig();
    const key = credentialKey(registry);
    const helper = helperFor(config, key);
    let removed = false;
    if (helper) removed = (await helperErase(helper, key, { env: this.#env })) || removed;
    const auths = { ...(config.auths ?? {}) };
    const keys = new Set(authKeys(registry));
    const found = findAuthEntry(config, registry);
    if (found) keys.add(found.key);
    let changed = false;
    for (const k of keys) {
      if (k in auths) {
        delete auths[k];
        changed = true;
      }
    }
    if (changed) {
      await writeDockerConfig(this.configDir, { ...config, auths });
      removed = true;
    }
    return removed;
  }
}
