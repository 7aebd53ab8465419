import { readdirSync, readFileSync } from "node:fs";
import type { LookupFunction } from "node:net";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { Agent, type Dispatcher, ProxyAgent } from "undici";
import { RegistryError } from "../errors.js";
import { type ProxySettings, proxyFor } from "./proxy.js";
import { DEFAULT_TIMEOUTS } from "./timeouts.js";

/** DEFAULT_CERTS_DIR is where docker reads per-registry CAs and client certificates. */
export const DEFAULT_CERTS_DIR = "/etc/docker/certs.d";

export interface TlsOptions {
  /** caFiles are PEM bundles trusted for every registry, on top of the system roots (`--registry-ca`). */
  caFiles?: string[];
  /** certsDir holds `<host[:port]>/{*.crt,*.cert,*.key}` as docker reads them (default /etc/docker/certs.d). */
  certsDir?: string;
  /** lookup resolves host names (split-horizon setups and tests). */
  lookup?: LookupFunction;
  /** connectTimeoutMs bounds establishing a connection, TLS handshake included (default 10 s; 0: none). */
  connectTimeoutMs?: number;
  /** headersTimeoutMs bounds waiting for response headers (default 30 s; requests may set their own). */
  headersTimeoutMs?: number;
  /** proxy sends requests through an HTTP(S) proxy (CONNECT tunnels), except loopback and NO_PROXY hosts. */
  proxy?: ProxySettings;
}

/** HostTls is what certs.d (plus global CAs) says about one host. */
export interface HostTls {
  ca: string[];
  cert?: string;
  key?: string;
}

function readPem(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new RegistryError(
      "CONFIG_INVALID",
      `cannot read certificate file ${file}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/**
 * readCertsDir reads `<certsDir>/<host>` the way docker does: every `*.crt`
 * is a CA, every `*.cert` is a client certificate whose key is the
 * `*.key` of the same name. A missing directory means nothing configured.
 */
export function readCertsDir(certsDir: string, host: string): HostTls {
  const dir = join(certsDir, host.replace(/[/\\]/g, "_"));
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return { ca: [] };
  }
  const out: HostTls = { ca: [] };
  for (const name of names) {
    if (name.endsWith(".crt")) out.ca.push(readPem(join(dir, name)));
    else if (name.endsWith(".cert")) {
      const keyName = `${name.slice(0, -".cert".length)}.key`;
      if (!names.includes(keyName)) {
        throw new RegistryError(
          "CONFIG_INVALID",
          `missing key ${keyName} for client certificate ${join(dir, name)}`,
        );
      }
      out.cert = readPem(join(dir, name));
      out.key = readPem(join(dir, keyName));
    } else if (name.endsWith(".key")) {
      const certName = `${name.slice(0, -".key".length)}.cert`;
      if (!names.includes(certName)) {
        throw new RegistryError(
          "CONFIG_INVALID",
          `missing client certificate ${certName} for key ${join(dir, name)}`,
        );
      }
    }
  }
  return out;
}

/**
 * Dispatchers hands out one undici Agent (a connection pool) per host and
 * TLS policy, configured from --registry-ca, certs.d and the insecure flag.
 * Insecure means "do not verify the certificate", as docker's
 * insecure-registries do; plain HTTP is decided by the caller's URL.
 */
export class Dispatchers {
  readonly #options: TlsOptions;
  readonly #agents = new Map<string, Dispatcher>();
  #globalCa: string[] | undefined;

  constructor(options: TlsOptions = {}) {
    this.#options = options;
  }

  /** forUrl returns the dispatcher for a URL; `insecure` skips certificate verification. */
  forUrl(url: URL, insecure: boolean): Dispatcher {
    const key = `${url.protocol}//${url.host}|${insecure ? "insecure" : "verify"}`;
    let agent = this.#agents.get(key);
    if (!agent) {
      agent = this.#create(url, insecure);
      this.#agents.set(key, agent);
    }
    return agent;
  }

  #create(url: URL, insecure: boolean): Dispatcher {
    const o = this.#options;
    const connectMs = o.connectTimeoutMs ?? DEFAULT_TIMEOUTS.connectMs;
    const connect: Record<string, unknown> = { timeout: connectMs };
    if (o.lookup) connect.lookup = o.lookup;
    if (url.protocol === "https:") {
      this.#globalCa ??= (o.caFiles ?? []).map(readPem);
      const certsDir = o.certsDir ?? DEFAULT_CERTS_DIR;
      let host = readCertsDir(certsDir, url.host);
      // `registry:443/img` names the directory with the port docker's URL drops.
      if (host.ca.length === 0 && !host.cert && !url.port) host = readCertsDir(certsDir, `${url.host}:443`);
      const extra = [...this.#globalCa, ...host.ca];
      if (extra.length > 0) connect.ca = [...rootCertificates, ...extra];
      if (host.cert && host.key) {
        connect.cert = host.cert;
        connect.key = host.key;
      }
      if (insecure) connect.rejectUnauthorized = false;
    }
    const pool = {
      headersTimeout: o.headersTimeoutMs ?? DEFAULT_TIMEOUTS.headersMs,
      // Bodies are watched by the speed floor (low-speed.ts), which a trickle cannot keep alive.
      bodyTimeout: 0,
      connections: 16,
    };
    const proxy = o.proxy ? proxyFor(url, o.proxy) : undefined;
    if (proxy) {
      // The origin's TLS settings apply inside the tunnel; the proxy itself is reached with defaults.
      return new ProxyAgent({
        ...pool,
        uri: proxy,
        requestTls: connect,
        proxyTls: { timeout: connectMs },
      });
    }
    return new Agent({ ...pool, connect });
  }

  /** close ends every pooled connection. */
  async close(): Promise<void> {
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    await Promise.all(agents.map((a) => a.close()));
  }
}
