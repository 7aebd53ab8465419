import { BlockList, isIP } from "node:net";
import { isLoopback, splitHostPort } from "../registry.js";

/** ProxySettings are docker's proxy variables: HTTP_PROXY, HTTPS_PROXY and NO_PROXY. */
export interface ProxySettings {
  httpProxy?: string;
  httpsProxy?: string;
  /** noProxy is a comma/space separated list: hosts (suffix match), `.domain`, `host:port`, CIDRs, or `*`. */
  noProxy?: string;
}

/** proxyFromEnv reads the proxy variables (lowercase first, as curl and Go do). */
export function proxyFromEnv(env: NodeJS.ProcessEnv): ProxySettings {
  const pick = (name: string) => env[name.toLowerCase()] || env[name.toUpperCase()] || undefined;
  const out: ProxySettings = {};
  const http = pick("http_proxy");
  const https = pick("https_proxy");
  const no = pick("no_proxy");
  if (http) out.httpProxy = http;
  if (https) out.httpsProxy = https;
  if (no) out.noProxy = no;
  return out;
}

/**
 * proxyFor returns the proxy URL to use for `url`, or undefined to connect
 * directly. Like Go's ProxyFromEnvironment (which docker uses), loopback
 * hosts are never proxied, and NO_PROXY entries match a host, its
 * subdomains, an optional port, or an IP range.
 */
export function proxyFor(url: URL, settings: ProxySettings): string | undefined {
  const proxy = url.protocol === "https:" ? settings.httpsProxy : settings.httpProxy;
  if (!proxy) return undefined;
  if (isLoopback(url.host)) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  for (const raw of (settings.noProxy ?? "").split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === "*") return undefined;
    const cidr = /^([0-9a-f.:]+)\/(\d{1,3})$/.exec(entry);
    if (cidr && isIP(cidr[1]!) && isIP(host)) {
      const list = new BlockList();
      const family = isIP(cidr[1]!) === 6 ? "ipv6" : "ipv4";
      list.addSubnet(cidr[1]!, Number(cidr[2]), family);
      if (isIP(host) === (family === "ipv6" ? 6 : 4) && list.check(host, family)) return undefined;
      continue;
    }
    const { host: entryHost, port: entryPort } = splitHostPort(entry);
    if (entryPort && entryPort !== port) continue;
    const name = entryHost.replace(/^\*?\./, "");
    if (host === name || host.endsWith(`.${name}`)) return undefined;
  }
  return proxy;
}
