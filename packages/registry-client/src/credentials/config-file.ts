import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, realpath, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { RegistryError } from "../errors.js";
import { DOCKER_HUB_AUTH_KEY, hostOf, isDockerHub } from "../registry.js";
import type { Credential } from "./store.js";

/** AuthEntry is one `auths` entry of docker's config.json. */
export interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  email?: string;
  [key: string]: unknown;
}

/** DockerConfig is the part of docker's config.json we read; other keys are kept as they are. */
export interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

/** dockerConfigDir is `$DOCKER_CONFIG`, else `~/.docker`, as docker resolves it. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), ".docker");
}

/** readDockerConfig reads `<dir>/config.json`; a missing file is an empty config, a broken one an error. */
export async function readDockerConfig(dir: string): Promise<DockerConfig> {
  const path = join(dir, "config.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new RegistryError("CONFIG_INVALID", `cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!text.trim()) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new RegistryError("CONFIG_INVALID", `${path} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new RegistryError("CONFIG_INVALID", `${path} must hold a JSON object`);
  }
  const config = parsed as DockerConfig;
  if (config.auths !== undefined && (typeof config.auths !== "object" || Array.isArray(config.auths))) {
    throw new RegistryError("CONFIG_INVALID", `${path}: "auths" must be an object`);
  }
  return config;
}

/**
 * writeDockerConfig replaces `<dir>/config.json` atomically (temp file with
 * mode 0600, then rename), following a symlinked config.json to its target
 * as docker does, and returns the path written.
 */
export async function writeDockerConfig(dir: string, config: DockerConfig): Promise<string> {
  let path = join(dir, "config.json");
  try {
    path = await realpath(path);
  } catch {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }
  const tmp = join(dirname(path), `.config.json.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, `${JSON.stringify(config, null, "\t")}\n`, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new RegistryError("CONFIG_INVALID", `cannot write ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return path;
}

/**
 * authKeys lists the config.json keys that may hold a registry's
 * credentials, preferred first: docker's own key, then the same host written
 * with a scheme (older docker versions stored `https://host`).
 */
export function authKeys(registry: string): string[] {
  if (isDockerHub(registry))
    return [DOCKER_HUB_AUTH_KEY, "index.docker.io", "docker.io", "registry-1.docker.io"];
  const host = hostOf(registry);
  return [host, `https://${host}`, `http://${host}`, `https://${host}/`, `http://${host}/`];
}

/** findAuthEntry finds a registry's entry by exact key, then by host as docker's ConvertToHostname compares. */
export function findAuthEntry(
  config: DockerConfig,
  registry: string,
): { key: string; entry: AuthEntry } | undefined {
  const auths = config.auths ?? {};
  for (const key of authKeys(registry)) {
    const entry = auths[key];
    if (entry) return { key, entry };
  }
  const hub = isDockerHub(registry);
  const host = hostOf(registry);
  for (const [key, entry] of Object.entries(auths)) {
    if (hub ? isDockerHub(key) : hostOf(key) === host) return { key, entry };
  }
  return undefined;
}

/** decodeAuth turns an entry into a Credential (base64 `auth` is `user:password`, split at the first colon). */
export function decodeAuth(entry: AuthEntry, where: string): Credential | undefined {
  const out: Credential = {};
  if (typeof entry.auth === "string" && entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0)
      throw new RegistryError("CONFIG_INVALID", `${where}: "auth" is not base64 of user:password`);
    out.username = decoded.slice(0, colon);
    out.password = decoded.slice(colon + 1);
  } else {
    if (typeof entry.username === "string") out.username = entry.username;
    if (typeof entry.password === "string") out.password = entry.password;
  }
  if (typeof entry.identitytoken === "string" && entry.identitytoken) out.identityToken = entry.identitytoken;
  if (typeof entry.registrytoken === "string" && entry.registrytoken) out.registryToken = entry.registrytoken;
  return out.password || out.identityToken || out.registryToken ? out : undefined;
}

/** encodeAuth is the config.json entry docker writes for a credential. */
export function encodeAuth(c: Credential): AuthEntry {
  const entry: AuthEntry = {};
  if (c.password !== undefined || c.username) {
    entry.auth = Buffer.from(`${c.username ?? ""}:${c.password ?? ""}`).toString("base64");
  }
  if (c.identityToken) entry.identitytoken = c.identityToken;
  if (c.registryToken) entry.registrytoken = c.registryToken;
  return entry;
}

/** helperFor names the credential helper for a registry: `credHelpers` first, then `credsStore`. */
export function helperFor(config: DockerConfig, key: string): string | undefined {
  const helpers = config.credHelpers ?? {};
  const specific = helpers[key] ?? helpers[hostOf(key)];
  if (typeof specific === "string" && specific) return specific;
  return typeof config.credsStore === "string" && config.credsStore ? config.credsStore : undefined;
}
