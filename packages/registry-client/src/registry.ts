/**
 * registry.ts maps the registry part of an image reference (what a user
 * types: `docker.io`, `localhost:5000`) to where the API lives and to the key
 * docker uses for it in config.json. Docker Hub is the odd one: references
 * say `docker.io`, the API is served by `registry-1.docker.io`, and
 * credentials are stored under `https://index.docker.io/v1/`.
 */

/** DOCKER_HUB is the canonical registry name in references. */
export const DOCKER_HUB = "docker.io";
/** DOCKER_HUB_API_HOST is the host that serves Docker Hub's distribution API. */
export const DOCKER_HUB_API_HOST = "registry-1.docker.io";
/** DOCKER_HUB_AUTH_KEY is docker's config.json key for Docker Hub credentials. */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

const HUB_ALIASES = new Set([
  "docker.io",
  "index.docker.io",
  "registry-1.docker.io",
  "registry.hub.docker.com",
  "https://index.docker.io/v1/",
  "https://index.docker.io/v1",
  "index.docker.io/v1",
  "https://registry-1.docker.io",
  "https://index.docker.io",
]);

/**
 * hostOf strips a scheme and any path from a server address, as docker's
 * `ConvertToHostname` does: `https://r.io:5000/v1/` → `r.io:5000`.
 */
export function hostOf(server: string): string {
  let s = server.trim();
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const slash = s.indexOf("/");
  if (slash >= 0) s = s.slice(0, slash);
  return s.toLowerCase();
}

/** isDockerHub says whether a registry name or server address means Docker Hub. */
export function isDockerHub(registry: string): boolean {
  return HUB_ALIASES.has(registry.trim().toLowerCase()) || HUB_ALIASES.has(hostOf(registry));
}

/** normalizeRegistry returns the reference form: `docker.io` for every Hub alias, else host[:port] lowercased. */
export function normalizeRegistry(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB : hostOf(registry);
}

/** apiHost is the host[:port] that serves the distribution API for a registry. */
export function apiHost(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB_API_HOST : hostOf(registry);
}

/**
 * credentialKey is the key docker uses in config.json (and for credential
 * helpers): `https://index.docker.io/v1/` for Docker Hub, else host[:port].
 */
export function credentialKey(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB_AUTH_KEY : hostOf(registry);
}

/** splitHostPort splits `host:port`, `[::1]:5000` or `host`. */
export function splitHostPort(hostport: string): { host: string; port: string | undefined } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostport);
  if (v6) return { host: v6[1]!, port: v6[2] };
  const i = hostport.lastIndexOf(":");
  if (i > 0 && hostport.indexOf(":") === i && /^\d+$/.test(hostport.slice(i + 1))) {
    return { host: hostport.slice(0, i), port: hostport.slice(i + 1) };
  }
  return { host: hostport, port: undefined };
}

/**
 * isLoopback says whether a registry host is on this machine (localhost,
 * 127.0.0.0/8, ::1). Docker treats those as insecure registries by default
 * (its `insecure-registries` always include 127.0.0.0/8).
 */
export function isLoopback(hostport: string): boolean {
  const { host } = splitHostPort(hostport.toLowerCase());
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host === "::1" || host === "0:0:0:0:0:0:0:1") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
