import { BlockList, isIP } from "node:net";
import { hostOf, isLoopback, splitHostPort } from "../registry.js";

/**
 * InsecurePolicy decides which registries may be reached over plain HTTP or
 * with an unverified certificate: loopback always (docker's default
 * 127.0.0.0/8), plus each `insecure-registries` entry: `host:port` (exact),
 * `host` (any port), or a CIDR such as `10.0.0.0/8` for IP hosts.
 */
export class InsecurePolicy {
  readonly #exact = new Set<string>();
  readonly #hosts = new Set<string>();
  readonly #cidrs = new BlockList();

  constructor(entries: readonly string[] = []) {
    for (const raw of entries) {
      const entry = raw.trim();
      if (!entry) continue;
      const cidr = /^([0-9a-fA-F.:]+)\/(\d{1,3})$/.exec(entry);
      if (cidr && isIP(cidr[1]!)) {
        this.#cidrs.addSubnet(cidr[1]!, Number(cidr[2]), isIP(cidr[1]!) === 6 ? "ipv6" : "ipv4");
        continue;
      }
      const hp = hostOf(entry);
      if (splitHostPort(hp).port === undefined) this.#hosts.add(hp);
      else this.#exact.add(hp);
    }
  }

  /** isInsecure says whether `host[:port]` may use HTTP or skip certificate verification. */
  isInsecure(hostport: string): boolean {
    const hp = hostport.toLowerCase();
    if (isLoopback(hp) || this.#exact.has(hp)) return true;
    const { host } = splitHostPort(hp);
    if (this.#hosts.has(host)) return true;
    const family = isIP(host);
    if (family === 4) return this.#cidrs.check(host, "ipv4");
    if (family === 6) return this.#cidrs.check(host, "ipv6");
    return false;
  }
}
